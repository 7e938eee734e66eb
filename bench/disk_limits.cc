// Raw limits of the disk under the scratch directory, measured through the
// default Env exactly as the engine would reach the disk: the figures the
// engine's own are divided by (ratio_vs_raw, ratio_vs_disk_seq).

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

}  // namespace

Result<Measurement> DiskFsync(const WorkloadContext& ctx) {
  Env* env = Env::Default();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                         env->OpenWritable(ctx.scratch + "/fsync.dat"));
  const std::string record(kFsyncRecordBytes, 'r');

  Measurement m;
  m.workload = ctx.name;
  m.system = "disk";
  m.durable = true;
  ResetPeakRss();
  const int64_t start = NowNanos();
  uint64_t ops = 0;
  while (ops < ctx.events) {
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(file->Append(record));
    CAIRN_RETURN_IF_ERROR(file->Sync());
    const int64_t t1 = NowNanos();
    m.latency.Record(t1 - t0);
    ++ops;
    if (t1 - start > kFsyncTimeLimitNanos) break;
  }
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  m.events = ops;
  m.payload_bytes = ops * kFsyncRecordBytes;
  CAIRN_RETURN_IF_ERROR(file->Close());
  m.Add("record_bytes", std::to_string(kFsyncRecordBytes));
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
  return m;
}

}  // namespace cairn::bench
