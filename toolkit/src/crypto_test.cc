// Crypto-shredding: tokens round-trip, are bound to their subject, are never
// opened into garbage; forgetting a subject makes its tokens unreadable and
// removes its key bytes from the vault's files.
#include "cairn/toolkit/crypto.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "src/base/testing.h"

namespace cairn::toolkit {
namespace {

using cairn::testing::TempDir;

// The worked example of docs/format/personal-data.md.
constexpr std::string_view kDocToken =
    "cairn:v1:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXtVVsE7WgHG7umffSyrIG_f_CX9JsitzjtfRG5BKVqBGC";
constexpr std::string_view kAuthFailure =
    "token fails authentication (damaged, or sealed for another subject or key)";

std::unique_ptr<SqliteKeyVault> OpenVault(const TempDir& dir) {
  auto v = SqliteKeyVault::Open(dir.Sub("vault.db"));
  EXPECT_TRUE(v.has_value()) << v.error().ToString();
  return v.has_value() ? std::move(*v) : nullptr;
}

// The error of a failed call, or "ok" (so a test states code and message).
template <class T>
std::string ErrorOf(const Result<T>& r) {
  return r.has_value() ? "ok" : r.error().ToString();
}
std::string ErrorOf(const Status& s) { return s.ok() ? "ok" : s.ToString(); }

std::string Corrupt(std::string_view subject, std::string_view problem) {
  return "corruption: data subject '" + std::string(subject) + "': " + std::string(problem);
}

// Every byte of every file directly in `dir`.
std::string AllBytesIn(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

std::string_view AsBytes(const SubjectKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// A vault with one fixed key, to check the documented example.
class FixedKeyVault : public KeyVault {
 public:
  explicit FixedKeyVault(SubjectKey key) : key_(key) {}
  Result<std::optional<SubjectKey>> Get(std::string_view) override {
    return std::optional<SubjectKey>(key_);
  }
  Result<SubjectKey> GetOrCreate(std::string_view) override { return key_; }
  Result<bool> IsErased(std::string_view) override { return false; }
  Status Erase(std::string_view) override { return Status::OK(); }

 private:
  SubjectKey key_;
};

TEST(CryptoTest, SealOpenRoundTrip) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  for (std::string plain :
       {std::string("alice@example.com"), std::string(), std::string("zoë \"quoted\" \\ 北京\n"),
        std::string("\0\x01\xff", 3), std::string(10000, 'x')}) {
    auto token = cipher.Seal("alice", plain);
    ASSERT_TRUE(token.has_value()) << token.error().ToString();
    ASSERT_TRUE(token->starts_with("cairn:v1:")) << *token;
    EXPECT_EQ(token->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-_",
                                       9),
              std::string::npos)
        << *token;
    // 24-byte nonce + 16-byte tag + plaintext, base64url without padding.
    EXPECT_EQ(token->size(), 9 + ((40 + plain.size()) * 4 + 2) / 3);
    auto opened = cipher.Open("alice", *token);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    EXPECT_EQ(*opened, std::optional<std::string>(plain));
  }
}

TEST(CryptoTest, DocumentedExampleOpens) {
  SubjectKey key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  FixedKeyVault vault(key);
  PersonalDataCipher cipher(&vault);
  auto opened = cipher.Open("user-42", kDocToken);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(*opened, std::optional<std::string>("alice@example.com"));
  EXPECT_EQ(ErrorOf(cipher.Open("user-43", kDocToken)), Corrupt("user-43", kAuthFailure));
}

TEST(CryptoTest, TwoSealsOfTheSamePlaintextDifferAndBothOpen) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto a = cipher.Seal("alice", "same");
  auto b = cipher.Seal("alice", "same");
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_NE(a->substr(0, 9 + 32), b->substr(0, 9 + 32));  // the nonces differ
  EXPECT_EQ(*cipher.Open("alice", *a), std::optional<std::string>("same"));
  EXPECT_EQ(*cipher.Open("alice", *b), std::optional<std::string>("same"));
}

TEST(CryptoTest, TokenOpenedUnderAnotherSubjectIsCorruption) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto token = cipher.Seal("alice", "secret");
  ASSERT_TRUE(token.has_value());
  ASSERT_TRUE(cipher.Seal("bob", "other").has_value());  // bob has a key
  auto r = cipher.Open("bob", *token);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(r.error().message(), "data subject 'bob': " + std::string(kAuthFailure));
}

TEST(CryptoTest, EveryChangedCharacterIsCorruptionNamingTheSubject) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto sealed = cipher.Seal("alice", "alice@example.com");
  ASSERT_TRUE(sealed.has_value());
  const std::string token = *sealed;
  for (size_t i = 9; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = cipher.Open("alice", bad);
    ASSERT_FALSE(r.has_value()) << "position " << i;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption) << "position " << i;
    if (i + 1 < token.size()) {  // the last character may also carry unused bits
      EXPECT_EQ(r.error().message(), "data subject 'alice': " + std::string(kAuthFailure))
          << "position " << i;
    }
  }
  // A flipped byte in the middle of the ciphertext.
  std::string flipped = token;
  flipped[40] = flipped[40] == 'x' ? 'y' : 'x';
  EXPECT_EQ(ErrorOf(cipher.Open("alice", flipped)), Corrupt("alice", kAuthFailure));
}

TEST(CryptoTest, MalformedTokensAreCorruption) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto sealed = cipher.Seal("alice", "x");
  ASSERT_TRUE(sealed.has_value());
  const std::string body = sealed->substr(9);
  const std::map<std::string, std::string> cases = {
      {"", "token does not start with 'cairn:v1:'"},
      {"alice@example.com", "token does not start with 'cairn:v1:'"},
      {"cairn:" + body, "token does not start with 'cairn:v1:'"},
      {"CAIRN:v1:" + body, "token does not start with 'cairn:v1:'"},
      {"cairn:v2:" + body, "token version 'v2' is not supported (expected 'v1')"},
      {"cairn:v1:", "token is too short (0 bytes, at least 40)"},
      {"cairn:v1:AAAA", "token is too short (3 bytes, at least 40)"},
      {"cairn:v1:" + body.substr(0, 52), "token is too short (39 bytes, at least 40)"},
      {"cairn:v1:" + body + "=", "token is not unpadded base64url"},
      {"cairn:v1:" + body.substr(0, 10) + "+" + body.substr(11), "token is not unpadded base64url"},
      {"cairn:v1:" + body.substr(0, 10) + "/" + body.substr(11), "token is not unpadded base64url"},
      {"cairn:v1:" + body.substr(0, 10) + " " + body.substr(11), "token is not unpadded base64url"},
      {"cairn:v1:A", "token is not unpadded base64url"},  // 6 bits: not a whole byte
      {" " + *sealed, "token does not start with 'cairn:v1:'"},
      {*sealed + "\n", "token is not unpadded base64url"},
  };
  for (const auto& [token, problem] : cases) {
    EXPECT_EQ(ErrorOf(cipher.Open("alice", token)), Corrupt("alice", problem)) << token;
  }
  // Malformed stays malformed for a subject without a key.
  EXPECT_EQ(ErrorOf(cipher.Open("nobody", "cairn:v1:")),
            Corrupt("nobody", "token is too short (0 bytes, at least 40)"));
}

// Forget racing Seal and Open from other threads: a seal that starts after
// Forget returned always fails with the erased-subject error (no key comes
// back, neither from the vault nor from the cache), and every token sealed
// before or during the race opens as forgotten, never as an error.
TEST(CryptoTest, ForgetRacingSealAndOpenLeavesNothingReadable) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  ASSERT_TRUE(cipher.Seal("alice", "warm").has_value());  // key cached
  std::atomic<bool> forgotten{false};
  std::atomic<int> sealed_after{0}, refused{0};
  std::mutex mu;
  std::vector<std::string> tokens;
  std::vector<std::string> problems;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      // Seal until 20 calls have started after Forget returned.
      for (int i = 0, after_calls = 0; after_calls < 20; ++i) {
        const bool after = forgotten.load();
        after_calls += after ? 1 : 0;
        auto r = cipher.Seal("alice", "secret " + std::to_string(i));
        std::lock_guard l(mu);
        if (r.has_value()) {
          tokens.push_back(*r);
          if (after) ++sealed_after;
          auto opened = cipher.Open("alice", *r);  // now or after the erasure
          if (!opened.has_value()) problems.push_back(opened.error().ToString());
        } else if (r.error().code() == ErrorCode::kSubjectErased &&
                   r.error().message() == "data subject 'alice' was erased") {
          ++refused;
        } else {
          problems.push_back(r.error().ToString());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(cipher.Forget("alice").ok());
  forgotten.store(true);
  for (auto& th : threads) th.join();
  EXPECT_EQ(problems, std::vector<std::string>{});
  EXPECT_EQ(sealed_after.load(), 0);
  EXPECT_GE(refused.load(), 3 * 20);  // at least every call started after Forget
  for (const std::string& t : tokens) {
    auto r = cipher.Open("alice", t);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_EQ(*r, std::nullopt) << t;
  }
  EXPECT_EQ(*vault->Get("alice"), std::nullopt);
  EXPECT_TRUE(*vault->IsErased("alice"));
}

TEST(CryptoTest, ForgetMakesTokensForgottenAndRefusesNewKeys) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto t1 = cipher.Seal("alice", "one");
  auto t2 = cipher.Seal("alice", "two");
  auto tb = cipher.Seal("bob", "bob's");
  ASSERT_TRUE(t1.has_value() && t2.has_value() && tb.has_value());
  ASSERT_EQ(*cipher.Open("alice", *t1), std::optional<std::string>("one"));  // key cached

  ASSERT_TRUE(cipher.Forget("alice").ok());
  for (const std::string& t : {*t1, *t2}) {
    auto r = cipher.Open("alice", t);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(*r, std::nullopt);
  }
  EXPECT_EQ(*cipher.Open("bob", *tb), std::optional<std::string>("bob's"));

  auto sealed = cipher.Seal("alice", "three");
  ASSERT_FALSE(sealed.has_value());
  EXPECT_EQ(sealed.error().code(), ErrorCode::kSubjectErased);
  EXPECT_EQ(sealed.error().message(), "data subject 'alice' was erased");
  auto created = vault->GetOrCreate("alice");
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code(), ErrorCode::kSubjectErased);
  EXPECT_EQ(created.error().message(), "data subject 'alice' was erased");
  EXPECT_EQ(ErasedSubjectMessage("alice"), "data subject 'alice' was erased");
  EXPECT_EQ(*vault->Get("alice"), std::nullopt);
  EXPECT_TRUE(*vault->IsErased("alice"));
  EXPECT_FALSE(*vault->IsErased("bob"));

  EXPECT_TRUE(cipher.Forget("alice").ok());  // idempotent
  EXPECT_EQ(*cipher.Open("alice", *t1), std::nullopt);
}

TEST(CryptoTest, NeverKnownSubjectOpensAsForgottenWithoutGettingAKey) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  auto token = cipher.Seal("alice", "hi");
  ASSERT_TRUE(token.has_value());
  auto r = cipher.Open("carol", *token);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, std::nullopt);
  EXPECT_EQ(*vault->Get("carol"), std::nullopt);
  EXPECT_FALSE(*vault->IsErased("carol"));
}

TEST(CryptoTest, SmallAndDisabledKeyCachesGiveTheSameResults) {
  TempDir dir;
  auto vault = OpenVault(dir);
  for (size_t entries : {size_t{0}, size_t{1}, size_t{2}}) {
    PersonalDataCipher cipher(vault.get(), {.key_cache_entries = entries});
    std::vector<std::pair<std::string, std::string>> sealed;
    for (const char* s : {"a", "b", "c", "a", "b", "c"}) {
      auto t = cipher.Seal(s, std::string("for ") + s);
      ASSERT_TRUE(t.has_value()) << t.error().ToString();
      sealed.emplace_back(s, *t);
    }
    for (const auto& [s, t] : sealed) {
      EXPECT_EQ(*cipher.Open(s, t), std::optional<std::string>("for " + s)) << entries;
    }
  }
}

TEST(CryptoTest, InvalidSubjectsAreInvalidArgument) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get());
  const std::map<std::string, std::string> cases = {
      {"", "invalid_argument: data subject is empty"},
      {std::string(257, 's'), "invalid_argument: data subject has 257 bytes, more than 256"},
      {"ab\xff", "invalid_argument: data subject is not valid UTF-8 (byte 2)"},
      {"\xc0\xaf", "invalid_argument: data subject is not valid UTF-8 (byte 0)"},       // overlong
      {"a\xed\xa0\x80", "invalid_argument: data subject is not valid UTF-8 (byte 1)"},  // surrogate
      {"\xf4\x90\x80\x80", "invalid_argument: data subject is not valid UTF-8 (byte 0)"},
      {"zo\xc3", "invalid_argument: data subject is not valid UTF-8 (byte 2)"},  // cut short
  };
  for (const auto& [subject, expected] : cases) {
    EXPECT_EQ(ErrorOf(ValidateSubject(subject)), expected);
    EXPECT_EQ(ErrorOf(vault->Get(subject)), expected);
    EXPECT_EQ(ErrorOf(vault->GetOrCreate(subject)), expected);
    EXPECT_EQ(ErrorOf(vault->IsErased(subject)), expected);
    EXPECT_EQ(ErrorOf(vault->Erase(subject)), expected);
    EXPECT_EQ(ErrorOf(cipher.Seal(subject, "x")), expected);
    EXPECT_EQ(ErrorOf(cipher.Open(subject, kDocToken)), expected);
    EXPECT_EQ(ErrorOf(cipher.Forget(subject)), expected);
  }
  for (const std::string& ok :
       {std::string(256, 's'), std::string("zoë-北京-🙂"), std::string("a b")}) {
    EXPECT_TRUE(ValidateSubject(ok).ok()) << ok;
    auto t = cipher.Seal(ok, "x");
    ASSERT_TRUE(t.has_value()) << t.error().ToString();
    EXPECT_EQ(*cipher.Open(ok, *t), std::optional<std::string>("x"));
  }
}

TEST(CryptoTest, FourThreadsSealAndOpenDifferentSubjects) {
  TempDir dir;
  auto vault = OpenVault(dir);
  PersonalDataCipher cipher(vault.get(), {.key_cache_entries = 3});  // forces evictions
  std::vector<std::string> failures(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string subject = "subject-" + std::to_string(t);
      for (int i = 0; i < 50; ++i) {
        const std::string plain = subject + "/" + std::to_string(i);
        auto token = cipher.Seal(subject, plain);
        auto shared = cipher.Seal("shared", plain);
        if (!token.has_value() || !shared.has_value()) {
          failures[t] = "seal failed at " + std::to_string(i);
          return;
        }
        auto opened = cipher.Open(subject, *token);
        auto opened_shared = cipher.Open("shared", *shared);
        if (!opened.has_value() || *opened != std::optional<std::string>(plain) ||
            !opened_shared.has_value() || *opened_shared != std::optional<std::string>(plain)) {
          failures[t] = "open gave the wrong answer at " + std::to_string(i);
          return;
        }
        const std::string other = "subject-" + std::to_string((t + 1) % 4);
        auto wrong = cipher.Open(other, *token);
        // The neighbour may not have a key yet: then forgotten, else corruption.
        if (wrong.has_value() ? wrong->has_value()
                              : wrong.error().code() != ErrorCode::kCorruption) {
          failures[t] = "token opened under " + other + " at " + std::to_string(i);
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST(KeyVaultTest, KeysAreStableDistinctAndSurviveReopen) {
  TempDir dir;
  std::string token;
  SubjectKey alice_key;
  {
    auto vault = OpenVault(dir);
    EXPECT_EQ(*vault->Get("alice"), std::nullopt);
    auto k1 = vault->GetOrCreate("alice");
    auto k2 = vault->GetOrCreate("alice");
    auto kb = vault->GetOrCreate("bob");
    ASSERT_TRUE(k1.has_value() && k2.has_value() && kb.has_value());
    EXPECT_EQ(*k1, *k2);
    EXPECT_NE(*k1, *kb);
    EXPECT_NE(*k1, SubjectKey{});
    alice_key = *k1;
    PersonalDataCipher cipher(vault.get());
    auto t = cipher.Seal("alice", "kept");
    ASSERT_TRUE(t.has_value());
    token = *t;
  }
  auto vault = OpenVault(dir);
  EXPECT_EQ(*vault->Get("alice"), std::optional<SubjectKey>(alice_key));
  EXPECT_EQ(*vault->GetOrCreate("alice"), alice_key);
  EXPECT_FALSE(*vault->IsErased("alice"));
  PersonalDataCipher cipher(vault.get());
  EXPECT_EQ(*cipher.Open("alice", token), std::optional<std::string>("kept"));
}

TEST(KeyVaultTest, ErasureSurvivesReopenAndCoversSubjectsWithoutKeys) {
  TempDir dir;
  {
    auto vault = OpenVault(dir);
    ASSERT_TRUE(vault->GetOrCreate("alice").has_value());
    EXPECT_TRUE(vault->Erase("alice").ok());
    EXPECT_TRUE(vault->Erase("never-seen").ok());  // recorded as erased
    EXPECT_TRUE(vault->Erase("never-seen").ok());
  }
  auto vault = OpenVault(dir);
  for (const char* s : {"alice", "never-seen"}) {
    EXPECT_TRUE(*vault->IsErased(s)) << s;
    EXPECT_EQ(*vault->Get(s), std::nullopt) << s;
    EXPECT_EQ(ErrorOf(vault->GetOrCreate(s)),
              "subject_erased: data subject '" + std::string(s) + "' was erased");
  }
}

TEST(KeyVaultTest, ErasedKeyBytesAreGoneFromEveryFileOnDisk) {
  TempDir dir;
  SubjectKey target, neighbour;
  {
    auto vault = OpenVault(dir);
    for (int i = 0; i < 40; ++i)
      ASSERT_TRUE(vault->GetOrCreate("s" + std::to_string(i)).has_value());
    target = **vault->Get("s17");
    neighbour = **vault->Get("s18");
    // The search can find a key: before the erase, it is on disk.
    ASSERT_NE(AllBytesIn(dir.path()).find(AsBytes(target)), std::string::npos);
    ASSERT_TRUE(vault->Erase("s17").ok());
  }
  const std::string disk = AllBytesIn(dir.path());
  EXPECT_EQ(disk.find(AsBytes(target)), std::string::npos);
  EXPECT_NE(disk.find(AsBytes(neighbour)), std::string::npos);
  // Only the database file remains: the journal was deleted at commit.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"vault.db"});
  EXPECT_EQ(
      std::filesystem::status(dir.Sub("vault.db")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(KeyVaultTest, TwoHandlesOnOneFileSeeEachOthersKeysAndErasures) {
  TempDir dir;
  auto a = OpenVault(dir);
  auto b = OpenVault(dir);
  auto key = a->GetOrCreate("alice");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*b->GetOrCreate("alice"), *key);
  ASSERT_TRUE(b->Erase("alice").ok());
  EXPECT_TRUE(*a->IsErased("alice"));
  EXPECT_EQ(*a->Get("alice"), std::nullopt);
}

TEST(KeyVaultTest, RefusesFilesThatAreNotKeyVaults) {
  TempDir dir;
  const std::string other = dir.Sub("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(ErrorOf(SqliteKeyVault::Open(other)),
            "invalid_argument: '" + other + "' is an SQLite database but not a key vault");

  const std::string newer = dir.Sub("newer.db");
  ASSERT_TRUE(SqliteKeyVault::Open(newer).has_value());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(ErrorOf(SqliteKeyVault::Open(newer)),
            "failed_precondition: key vault '" + newer +
                "' has version 2, newer than this build reads (1)");

  const std::string garbage = dir.Sub("garbage.db");
  std::ofstream(garbage) << std::string(4096, 'g');
  EXPECT_EQ(ErrorOf(SqliteKeyVault::Open(garbage)),
            "corruption: key vault '" + garbage +
                "': PRAGMA journal_mode = DELETE: file is not a database");

  EXPECT_EQ(ErrorOf(SqliteKeyVault::Open(dir.Sub("missing/vault.db"))),
            "io_error: key vault '" + dir.Sub("missing/vault.db") +
                "': open: unable to open database file");
}

}  // namespace
}  // namespace cairn::toolkit
