// An out-of-tree program built against an installed Cairn only (CI's
// package check, scripts/package-check.sh): opens a store by URL, appends,
// reads back, subscribes, and prints what it found as one line.
#include <cstdio>
#include <string>
#include <vector>

#include "cairn/admin.h"
#include "cairn/store.h"
#include "cairn/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hello DIR\n");
    return 2;
  }
  auto store = cairn::OpenStore(std::string("file://") + argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().ToString().c_str());
    return 1;
  }
  std::vector<cairn::EventData> events(2);
  events[0].type = "Opened";
  events[0].data = R"({"owner":"ada"})";
  events[1].type = "Deposited";
  events[1].data = R"({"amount":5})";
  auto appended = (*store)->Append("account-1", cairn::ExpectedRevision::NoStream(), events);
  if (!appended) {
    std::fprintf(stderr, "append: %s\n", appended.error().ToString().c_str());
    return 1;
  }
  auto read = (*store)->ReadStream("account-1", cairn::ReadStreamOptions{});
  auto count = (*store)->Count(cairn::CountOf::Category("account"));
  if (!read || !count) {
    std::fprintf(stderr, "read failed\n");
    return 1;
  }
  std::printf("cairn %s: %zu events, last %s at revision %llu, category count %llu, admin %s\n",
              cairn::kVersion, read->size(), read->back().type.c_str(),
              static_cast<unsigned long long>(appended->revision->value()),
              static_cast<unsigned long long>(*count),
              cairn::AdminOf(store->get()) != nullptr ? "yes" : "no");
  return (*store)->Close().ok() ? 0 : 1;
}
