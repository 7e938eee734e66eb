// Raw limits of the disk under the scratch directory, measured through the
// default Env exactly as the engine would reach the disk: the figures the
// engine's own are divided by (ratio_vs_raw, ratio_vs_disk_seq).

#include <algorithm>
#include <memory>
#include <string>

#include "bench/workload.h"
#include "cairn/env.h"

namespace cairn::bench {
namespace {

// disk-fsync: a record of this size appended, then fdatasync, repeated. About
// one ~200-byte event with its record header.
constexpr size_t kFsyncRecordBytes = 256;
// disk-fsync stops early past this much time so a large --events stays sane.
constexpr int64_t kFsyncTimeLimitNanos = 10'000'000'000;
// disk-seq: this many bytes in appends of kSeqBlockBytes, then one Sync.
constexpr uint64_t kSeqTotalBytes = 512ull << 20;
constexpr size_t kSeqBlockBytes = 1u << 20;
// disk-seq's second figure: what one append of append-batch writes to the
// log (1,000 events of 275 bytes each in compact records: append-batch
// prints its own log_bytes_per_event to check), appended then fdatasync,
// repeated, into fallocated space as the engine's log reserves it for
// batches. This is the physical limit of a writer that waits for each
// append to be durable. The third figure writes the same batches over
// blocks zero-filled and synced beforehand: the fdatasync then flushes data
// only, without writing the file's metadata for the blocks' conversion from
// unwritten. It is no limit a continuous writer can reach (the zeros cost a
// write of their own), but the difference is what the conversion costs.
constexpr size_t kSyncedBatchBytes = 275'000;
constexpr uint64_t kSyncedBatches = 1000;  // as many as append-batch makes by default

}  // namespace

namespace {

// One pass of disk-fsync: appends of kFsyncRecordBytes, each followed by
// fdatasync, into a file that grows with every append, or whose blocks were
// reserved ahead (fallocate: no file size to journal, but each block's
// first fdatasync journals its conversion from unwritten), or zero-filled
// and synced ahead (an fdatasync flushes data only: the disk's best).
enum class FileKind { kGrowing, kFallocated, kZeroFilled };
struct FsyncPass {
  Histogram latency;
  uint64_t ops = 0;
  double seconds = 0;
};

Result<FsyncPass> RunFsyncPass(const std::string& path, uint64_t events, FileKind kind,
                               size_t record_bytes = kFsyncRecordBytes) {
  Env* env = Env::Default();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->OpenWritable(path));
  CAIRN_RETURN_IF_ERROR(file->Truncate(0));  // a file left by an earlier run
  if (kind == FileKind::kFallocated) {
    CAIRN_RETURN_IF_ERROR(file->Preallocate(events * record_bytes));
  } else if (kind == FileKind::kZeroFilled) {
    CAIRN_RETURN_IF_ERROR(file->WriteZeros(events * record_bytes));
  }
  CAIRN_RETURN_IF_ERROR(file->Sync());
  const std::string record(record_bytes, 'r');
  FsyncPass pass;
  const int64_t start = NowNanos();
  while (pass.ops < events) {
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(file->Append(record));
    CAIRN_RETURN_IF_ERROR(file->Sync());
    const int64_t t1 = NowNanos();
    pass.latency.Record(t1 - t0);
    ++pass.ops;
    if (t1 - start > kFsyncTimeLimitNanos) break;
  }
  pass.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  CAIRN_RETURN_IF_ERROR(file->Close());
  return pass;
}

}  // namespace

// The line's figures are the zero-filled file's (the disk's best, and how
// the engine writes its log for small appends); fallocated_* and
// extending_* are the other two kinds of file. group_* writes 64 records
// (16 KiB, what 64 concurrent single-event appends commit at once) per
// fdatasync into a zero-filled file, reported in fdatasyncs per second:
// 64 x that rate bounds append-concurrent.
constexpr size_t kGroupRecords = 64;

void AddPass(Measurement* m, const std::string& prefix, const FsyncPass& p,
             const std::string& rate = "events_per_s") {
  std::string key = prefix;
  key.append("_").append(rate);
  m->Add(key, FormatFixed(static_cast<double>(p.ops) / std::max(p.seconds, 1e-9), 0));
  m->Add(prefix + "_p50_us", FormatFixed(p.latency.Percentile(0.50) / 1e3, 1));
  m->Add(prefix + "_p99_us", FormatFixed(p.latency.Percentile(0.99) / 1e3, 1));
}

Result<Measurement> DiskFsync(const WorkloadContext& ctx) {
  Measurement m;
  m.workload = ctx.name;
  m.system = "disk";
  m.durable = true;
  ResetPeakRss();
  const std::string scratch = ctx.scratch + "/fsync.dat";
  CAIRN_ASSIGN_OR_RETURN(FsyncPass grow, RunFsyncPass(scratch, ctx.events, FileKind::kGrowing));
  CAIRN_ASSIGN_OR_RETURN(FsyncPass falloc,
                         RunFsyncPass(scratch, ctx.events, FileKind::kFallocated));
  CAIRN_ASSIGN_OR_RETURN(FsyncPass best, RunFsyncPass(scratch, ctx.events, FileKind::kZeroFilled));
  CAIRN_ASSIGN_OR_RETURN(FsyncPass group,
                         RunFsyncPass(scratch, std::max<uint64_t>(ctx.events / 4, 1),
                                      FileKind::kZeroFilled, kGroupRecords * kFsyncRecordBytes));
  (void)Env::Default()->RemoveFile(scratch);
  m.latency = best.latency;
  m.seconds = best.seconds;
  m.SampleRss();
  m.events = best.ops;
  m.payload_bytes = best.ops * kFsyncRecordBytes;
  m.Add("record_bytes", std::to_string(kFsyncRecordBytes));
  m.Add("file", "zero-filled");
  AddPass(&m, "fallocated", falloc);
  AddPass(&m, "extending", grow);
  AddPass(&m, "group_64", group, "syncs_per_s");  // each sync carries 64 records
  return m;
}

Result<Measurement> DiskSeq(const WorkloadContext& ctx) {
  Env* env = Env::Default();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                         env->OpenWritable(ctx.scratch + "/seq.dat"));
  std::string block(kSeqBlockBytes, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + i % 26);

  Measurement m;
  m.workload = ctx.name;
  m.system = "disk";
  m.durable = true;
  ResetPeakRss();
  const int64_t start = NowNanos();
  uint64_t written = 0;
  uint64_t appends = 0;
  while (written < kSeqTotalBytes) {
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(file->Append(block));
    m.latency.Record(NowNanos() - t0);
    written += block.size();
    ++appends;
  }
  const int64_t sync_start = NowNanos();
  CAIRN_RETURN_IF_ERROR(file->Sync());
  const int64_t end = NowNanos();
  m.seconds = static_cast<double>(end - start) / 1e9;
  m.SampleRss();
  m.events = appends;
  m.payload_bytes = written;
  CAIRN_RETURN_IF_ERROR(file->Close());
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("block_kib", std::to_string(kSeqBlockBytes >> 10));
  m.Add("total_mib", std::to_string(written >> 20));
  m.Add("final_sync_ms", FormatFixed(static_cast<double>(end - sync_start) / 1e6, 1));
  CAIRN_RETURN_IF_ERROR(env->RemoveFile(ctx.scratch + "/seq.dat"));
  const std::string batch_path = ctx.scratch + "/batch.dat";
  CAIRN_ASSIGN_OR_RETURN(FsyncPass batch, RunFsyncPass(batch_path, kSyncedBatches,
                                                       FileKind::kFallocated, kSyncedBatchBytes));
  CAIRN_ASSIGN_OR_RETURN(FsyncPass zeroed, RunFsyncPass(batch_path, kSyncedBatches,
                                                        FileKind::kZeroFilled, kSyncedBatchBytes));
  (void)env->RemoveFile(batch_path);
  m.Add("synced_batch_bytes", std::to_string(kSyncedBatchBytes));
  auto add_batches = [&](const std::string& prefix, const FsyncPass& p) {
    m.Add(prefix + "_mb_per_s",
          FormatFixed(
              static_cast<double>(p.ops * kSyncedBatchBytes) / 1e6 / std::max(p.seconds, 1e-9), 0));
    m.Add(prefix + "_p50_us", FormatFixed(p.latency.Percentile(0.50) / 1e3, 1));
    m.Add(prefix + "_p99_us", FormatFixed(p.latency.Percentile(0.99) / 1e3, 1));
  };
  add_batches("synced_batch", batch);
  add_batches("synced_batch_zeroed", zeroed);
  return m;
}

}  // namespace cairn::bench
