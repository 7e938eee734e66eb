// `cairn bench`: the workload table, the run plan (peers and raw limits next
// to the engine figures they are compared with), scratch directories, and the
// ratios that join figures measured in the same run.

#include "bench/bench.h"

#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "bench/report.h"
#include "bench/workload.h"
#include "cairn/env.h"

namespace cairn::bench {
namespace {

using WorkloadFn = Result<Measurement> (*)(const WorkloadContext&);

struct WorkloadSpec {
  const char* name;
  uint64_t default_events;  // used when BenchConfig::events is 0
  bool raw_limit;           // a disk limit (system=disk), skipped with peers off
  WorkloadFn run;           // the engine or toolkit workload, or the disk measurement
  // Run first with peers on, or nullptr: the SQLite peer of an engine
  // workload, the raw-engine peer (system=cairn) of a toolkit workload.
  WorkloadFn peer;
};

// In the default order. disk-seq ignores --events: a bandwidth figure needs
// a fixed, large size (512 MiB).
constexpr WorkloadSpec kWorkloads[] = {
    {"disk-fsync", 5'000, true, &DiskFsync, nullptr},
    {"disk-seq", 512, true, &DiskSeq, nullptr},
    {"disk-group-commit", 200'000, true, &DiskGroupCommit, nullptr},
    {"append-batch", 1'000'000, false, &CairnAppendBatch, &SqliteAppendBatch},
    {"append-single", 5'000, false, &CairnAppendSingle, &SqliteAppendSingle},
    {"append-concurrent", 200'000, false, &CairnAppendConcurrent, &SqliteAppendConcurrent},
    // Same writers over AppendAsync; its SQLite peer is append-concurrent's.
    {"append-concurrent-async", 200'000, false, &CairnAppendConcurrentAsync, nullptr},
    {"read-stream", 1'000'000, false, &CairnReadStream, &SqliteReadStream},
    {"read-all", 1'000'000, false, &CairnReadAll, &SqliteReadAll},
    {"open", 10'000'000, false, &CairnOpen, nullptr},
    {"catch-up", 10'000'000, false, &CairnCatchUp, &SqliteCatchUp},
    {"live-fanout", 5'000, false, &CairnLiveFanout, nullptr},
    {"live-fanout-push", 5'000, false, &CairnLiveFanoutPush, nullptr},
    {"category-read", 10'000'000, false, &CairnCategoryRead, nullptr},
    {"category-read-mixed", 10'000'000, false, &CairnCategoryReadMixed, nullptr},
    {"scavenge", 10'000'000, false, &CairnScavenge, nullptr},
    // The toolkit (issue 4): events = stream length, commands, or events sealed.
    {"aggregate-rebuild", 10'000, false, &ToolkitAggregateRebuild, nullptr},
    {"aggregate-snapshot-load", 1'000'000, false, &ToolkitAggregateSnapshotLoad, nullptr},
    {"commands-one", 2'000, false, &ToolkitCommandsOne, &CairnRawCommandsOne},
    {"commands-spread", 20'000, false, &ToolkitCommandsSpread, &CairnRawCommandsSpread},
    {"personal-data", 200'000, false, &ToolkitPersonalData, nullptr},
};

const WorkloadSpec* FindSpec(const std::string& name) {
  for (const WorkloadSpec& spec : kWorkloads) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

// The raw limit a durable engine workload is divided by, if any.
const char* RawReference(const std::string& name) {
  if (name == "append-batch") return "disk-seq";
  if (name == "append-single") return "disk-fsync";
  if (name == "append-concurrent" || name == "append-concurrent-async") {
    return "disk-group-commit";
  }
  return nullptr;
}

// Workloads to run, in order. With peers on and a durable run, the raw limit
// an engine figure is compared with is measured first even when not named.
std::vector<const WorkloadSpec*> Plan(const BenchConfig& config) {
  std::vector<const WorkloadSpec*> plan;
  auto planned = [&](const char* name) {
    for (const WorkloadSpec* s : plan) {
      if (std::string(s->name) == name) return true;
    }
    return false;
  };
  if (config.workloads.empty()) {
    for (const WorkloadSpec& spec : kWorkloads) {
      if (spec.raw_limit && !config.peers) continue;
      plan.push_back(&spec);
    }
    return plan;
  }
  for (const std::string& name : config.workloads) {
    const WorkloadSpec* spec = FindSpec(name);
    if (planned(spec->name)) continue;
    const char* ref = RawReference(name);
    if (ref != nullptr && config.peers && config.durable && !planned(ref)) {
      plan.push_back(FindSpec(ref));
    }
    plan.push_back(spec);
  }
  return plan;
}

// A fresh directory for this run's scratch stores: <base>/cairn-bench-XXXXXX.
Result<std::string> MakeScratchRoot(const std::string& dir) {
  std::string base = dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  CAIRN_RETURN_IF_ERROR(Env::Default()->CreateDirs(base));
  // The Env has no "make a unique directory" call; mkdtemp is the one place
  // the bench touches the file system directly (and remove_all below).
  std::string pattern = base + "/cairn-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::FromErrno(errno, "mkdtemp", pattern);
  }
  return pattern;
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    std::fprintf(stderr, "cairn bench: could not remove %s: %s\n", path.c_str(),
                 ec.message().c_str());
  }
}

// Raw limits on tmpfs measure memory, not a disk: say so once.
void WarnIfTmpfs(const std::string& path) {
  struct statfs fs;
  constexpr decltype(fs.f_type) kTmpfsMagic = 0x01021994;
  if (::statfs(path.c_str(), &fs) == 0 && fs.f_type == kTmpfsMagic) {
    std::fprintf(stderr,
                 "cairn bench: warning: %s is on tmpfs; fsync and bandwidth figures "
                 "measure memory, not a disk (use --dir)\n",
                 path.c_str());
  }
}

std::string Ratio(double num, double den) { return den > 0 ? FormatFixed(num / den, 2) : "-"; }

// The value of an extra key of `m`, or nullptr.
const std::string* FindExtra(const Measurement& m, const std::string& key) {
  for (const auto& [k, v] : m.extra) {
    if (k == key) return &v;
  }
  return nullptr;
}

// Adds the keys that compare `m` with figures already measured in this run.
// Durable and non-durable figures are never compared: the raw limits are
// durable, so they are joined only to durable runs.
void AddRatios(Measurement* m, const std::map<std::string, Measurement>& done) {
  auto find = [&](const std::string& system, const std::string& workload) -> const Measurement* {
    auto it = done.find(system + "/" + workload);
    return it == done.end() ? nullptr : &it->second;
  };
  if (m->durable && m->workload == "append-batch") {
    if (const Measurement* disk = find("disk", "disk-seq")) {
      m->Add("ratio_vs_disk_seq", Ratio(m->MegabytesPerSecond(), disk->MegabytesPerSecond()));
      // Against one writer's physical limit: appends of the same log bytes,
      // each waiting for its fdatasync.
      const std::string* synced = FindExtra(*disk, "synced_batch_mb_per_s");
      const std::string* per_event = FindExtra(*m, "log_bytes_per_event");
      if (synced != nullptr && per_event != nullptr) {
        const double log_mb_per_s = m->EventsPerSecond() * std::stod(*per_event) / 1e6;
        m->Add("ratio_vs_synced_batch", Ratio(log_mb_per_s, std::stod(*synced)));
      }
    }
  }
  if (m->durable && m->workload == "append-single") {
    if (const Measurement* disk = find("disk", "disk-fsync")) {
      m->Add("ratio_vs_raw", Ratio(m->EventsPerSecond(), disk->EventsPerSecond()));
      m->Add("p99_ratio_vs_raw",
             Ratio(m->latency.Percentile(0.99), disk->latency.Percentile(0.99)));
    }
  }
  if (m->durable &&
      (m->workload == "append-concurrent" || m->workload == "append-concurrent-async")) {
    // 64 blocking threads with nothing but a write + fdatasync per group.
    if (const Measurement* raw = find("disk", "disk-group-commit")) {
      m->Add("ratio_vs_group_commit_limit", Ratio(m->EventsPerSecond(), raw->EventsPerSecond()));
    }
  }
  if (m->system == "cairn") {
    const Measurement* peer = find("sqlite", m->workload);
    if (peer != nullptr && peer->durable == m->durable && peer->events == m->events) {
      m->Add("ratio_vs_sqlite", Ratio(m->EventsPerSecond(), peer->EventsPerSecond()));
    }
  }
  // A toolkit workload against raw appends of the same events by the engine.
  if (m->system == "toolkit") {
    const Measurement* peer = find("cairn", m->workload);
    if (peer != nullptr && peer->durable == m->durable && peer->events == m->events) {
      m->Add("ratio_vs_raw", Ratio(m->EventsPerSecond(), peer->EventsPerSecond()));
      m->Add("p50_ratio_vs_raw", Ratio(m->latency.Percentile(0.5), peer->latency.Percentile(0.5)));
    }
  }
}

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const WorkloadSpec& spec : kWorkloads) names.emplace_back(spec.name);
  return names;
}

int Run(const BenchConfig& config) {
  for (const std::string& name : config.workloads) {
    if (FindSpec(name) == nullptr) {
      std::string known;
      for (const std::string& n : WorkloadNames()) known += (known.empty() ? "" : ", ") + n;
      std::fprintf(stderr, "cairn bench: unknown workload '%s' (known: %s)\n", name.c_str(),
                   known.c_str());
      return 2;
    }
  }

  auto root = MakeScratchRoot(config.dir);
  if (!root) {
    std::fprintf(stderr, "cairn bench: scratch directory: %s\n", root.error().ToString().c_str());
    return 1;
  }
  WarnIfTmpfs(*root);

  std::map<std::string, Measurement> done;  // "system/workload" -> figures
  int step = 0;
  for (const WorkloadSpec* spec : Plan(config)) {
    WorkloadContext ctx;
    ctx.name = spec->name;
    ctx.events = (config.events != 0 && std::string(spec->name) != "disk-seq")
                     ? config.events
                     : spec->default_events;
    ctx.durable = config.durable;

    // The peer first, so the measured line can carry its ratio.
    std::vector<WorkloadFn> runs;
    if (spec->peer != nullptr && config.peers) runs.push_back(spec->peer);
    runs.push_back(spec->run);
    for (WorkloadFn fn : runs) {
      ctx.scratch = *root + "/" + std::to_string(step++);
      Status made = Env::Default()->CreateDirs(ctx.scratch);
      Result<Measurement> r = made.ok() ? fn(ctx) : Result<Measurement>(made);
      RemoveTree(ctx.scratch);
      if (!r) {
        std::fprintf(stderr, "workload=%s error=%s\n", spec->name, r.error().ToString().c_str());
        RemoveTree(*root);
        return 1;
      }
      Measurement m = std::move(r).value();
      AddRatios(&m, done);
      std::printf("%s\n", FormatLine(m).c_str());
      std::fflush(stdout);
      done.insert_or_assign(m.system + "/" + m.workload, std::move(m));
    }
  }
  RemoveTree(*root);
  return 0;
}

}  // namespace cairn::bench
