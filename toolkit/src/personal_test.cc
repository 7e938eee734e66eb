// Personal data in typed events and aggregates: sealed on the way in, never
// in clear on disk, "forgotten" (never garbage, never a failed replay) once
// the subject is erased.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cairn/native.h"
#include "cairn/toolkit/aggregate.h"
#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/projection.h"
#include "src/base/testing.h"

namespace cairn::toolkit {
namespace {

struct SignedUp {
  static constexpr std::string_view kType = "SignedUp";
  static constexpr int kVersion = 1;
  std::string member;
  Personal email;
  std::optional<Personal> phone;
  static void Describe(Fields<SignedUp>& f) {
    f.Add("member", &SignedUp::member);
    f.Add("email", &SignedUp::email, SubjectIs("member"));
    f.Add("phone", &SignedUp::phone, SubjectIs("member"));
  }
};

struct Member {
  static constexpr std::string_view kCategory = "member";
  static constexpr int kSnapshotVersion = 1;
  using Events = EventSet<SignedUp>;
  struct State {
    std::string member;
    Personal email;
    int64_t signups = 0;
    static void Describe(Fields<State>& f) {
      f.Add("member", &State::member);
      f.Add("email", &State::email, SubjectIs("member"));
      f.Add("signups", &State::signups);
    }
  };
  static State Evolve(State s, const Events::Variant& e) {
    const auto& x = std::get<SignedUp>(e);
    return {x.member, x.email, s.signups + 1};
  }
};

// Every byte of every file under `dir`.
std::string AllBytes(const std::string& dir) {
  std::string out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

class PersonalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = SqliteKeyVault::Open(dir_.Sub("keys.db"));
    ASSERT_TRUE(v.has_value()) << v.error().ToString();
    vault_ = std::move(*v);
    cipher_ = std::make_unique<PersonalDataCipher>(vault_.get());
  }
  testing::TempDir dir_;
  std::unique_ptr<SqliteKeyVault> vault_;
  std::unique_ptr<PersonalDataCipher> cipher_;
};

TEST_F(PersonalTest, SealedOnWriteOpenedOnReadForgottenAfterErasure) {
  SignedUp e{"m-1", Personal("ann@example.com"), std::nullopt};
  auto json = EncodeSealed(e, cipher_.get());
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  EXPECT_EQ(json->find("ann@example.com"), std::string::npos) << *json;
  EXPECT_EQ(json->rfind(R"({"member":"m-1","email":"cairn:v1:)", 0), 0u) << *json;
  EXPECT_EQ(Encode(e), R"({"member":"m-1","email":"ann@example.com"})");  // display only
  // Regression (newcomer report, item 10: the header said the opposite):
  // encoding for the store without a cipher refuses, never writes in clear.
  auto clear = EncodeSealed(e, nullptr);
  ASSERT_FALSE(clear.has_value());
  EXPECT_EQ(clear.error().ToString(),
            "invalid_argument: SignedUp.email: personal data needs a PersonalDataCipher to be "
            "written");

  auto back = Decode<SignedUp>(*json, cipher_.get());
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->email, Personal("ann@example.com"));
  EXPECT_EQ(back->phone, std::nullopt);

  auto bare = Decode<SignedUp>(*json);
  ASSERT_FALSE(bare.has_value());
  EXPECT_EQ(bare.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bare.error().message(),
            "SignedUp.email: personal data needs a PersonalDataCipher to be read");

  // The token is bound to its subject: moved to another member (who has a
  // key of their own) it fails; to a member without a key it is forgotten.
  ASSERT_TRUE(cipher_->Seal("m-2", "x").has_value());
  std::string moved = *json;
  moved.replace(moved.find("m-1"), 3, "m-2");
  auto stolen = Decode<SignedUp>(moved, cipher_.get());
  ASSERT_FALSE(stolen.has_value());
  EXPECT_EQ(stolen.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(stolen.error().message().rfind("SignedUp.email: ", 0), 0u) << stolen.error().message();

  ASSERT_TRUE(cipher_->Forget("m-1").ok());
  auto gone = Decode<SignedUp>(*json, cipher_.get());
  ASSERT_TRUE(gone.has_value()) << gone.error().ToString();
  EXPECT_TRUE(gone->email.forgotten());
  EXPECT_EQ(gone->email.value(), "");
  EXPECT_EQ(gone->member, "m-1");
  EXPECT_EQ(Encode(*gone), R"({"member":"m-1","email":null})");

  auto again = EncodeSealed(e, cipher_.get());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kSubjectErased);
  EXPECT_EQ(again.error().message(), "SignedUp.email: data subject 'm-1' was erased");
  // A forgotten value stays forgotten: written as null, read as forgotten.
  auto copy = EncodeSealed(*gone, cipher_.get());
  ASSERT_TRUE(copy.has_value()) << copy.error().ToString();
  EXPECT_EQ(*copy, R"({"member":"m-1","email":null})");
  auto copied = Decode<SignedUp>(*copy, cipher_.get());
  ASSERT_TRUE(copied.has_value()) << copied.error().ToString();
  EXPECT_TRUE(copied->email.forgotten());
}

TEST_F(PersonalTest, AggregatesNeverStorePersonalDataInClear) {
  NativeOptions so;
  so.durability = Durability::kNoSyncUnsafe;
  auto store = NativeStore::Open(dir_.Sub("store"), so);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  AggregateOptions o;
  o.cipher = cipher_.get();
  o.snapshot_every = 2;
  AggregateStore<Member> members(store->get(), o);
  auto signup = [](std::string email) {
    return [email](const Member::State&) -> Decision<Member::Events::Variant> {
      return Member::Events::Variant(SignedUp{"m-7", Personal(email), Personal("+1 555 0100")});
    };
  };
  for (int i = 0; i < 3; ++i) {
    auto r =
        members.Handle("m-7", CommandContext{}, signup("zoe" + std::to_string(i) + "@example.com"));
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  members.FlushSnapshots();
  ASSERT_GE(members.snapshot_stats().written, 1u);
  auto l = members.Load("m-7");
  ASSERT_TRUE(l.has_value()) << l.error().ToString();
  EXPECT_EQ(l->state.email, Personal("zoe2@example.com"));
  ASSERT_TRUE(l->snapshot.has_value());  // the snapshot was sealed and opened too
  ASSERT_TRUE((*store)->Checkpoint().ok());
  const std::string disk = AllBytes(dir_.Sub("store"));
  EXPECT_EQ(disk.find("@example.com"), std::string::npos);
  EXPECT_EQ(disk.find("555 0100"), std::string::npos);

  ASSERT_TRUE(cipher_->Forget("m-7").ok());
  for (bool snap : {true, false}) {
    LoadOptions lo;
    lo.use_snapshot = snap;
    auto f = members.Load("m-7", lo);
    ASSERT_TRUE(f.has_value()) << f.error().ToString();  // a replay never breaks
    EXPECT_TRUE(f->state.email.forgotten());
    EXPECT_EQ(f->state.signups, 3);
  }
  auto h = members.History("m-7");
  ASSERT_TRUE(h.has_value()) << h.error().ToString();
  EXPECT_EQ((*h)[0].data, R"({"member":"m-7","email":null,"phone":null})");
  auto refused = members.Handle("m-7", CommandContext{}, signup("new@example.com"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kSubjectErased);
  EXPECT_EQ(refused.error().message(), "SignedUp.email: data subject 'm-7' was erased");
}

struct NoSubject {
  static constexpr std::string_view kType = "NoSubject";
  static constexpr int kVersion = 1;
  Personal email;
  static void Describe(Fields<NoSubject>& f) {
    f.Add("email", &NoSubject::email, SubjectIs("nobody"));
  }
};

TEST_F(PersonalTest, APersonalFieldWithoutASubjectFieldIsAnErrorNamingIt) {
  auto w = EncodeSealed(NoSubject{Personal("x@example.com")}, cipher_.get());
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      w.error().message(),
      "NoSubject.email: personal data needs rules.subject naming a string field, got 'nobody'");
  auto r = Decode<NoSubject>(R"({"email":"cairn:v1:AAAA"})", cipher_.get());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(
      r.error().message(),
      "NoSubject.email: personal data needs rules.subject naming a string field, got 'nobody'");
}

// A read model that keeps a member's email (decoded with the cipher).
class Emails : public Projection {
 public:
  explicit Emails(PersonalDataCipher* cipher) : cipher_(cipher) {}
  std::string name() const override { return "emails"; }
  Status Setup(Sql& sql) override {
    return sql.Exec("CREATE TABLE IF NOT EXISTS emails (member TEXT PRIMARY KEY, email TEXT)");
  }
  Status Reset(Sql& sql) override { return sql.Exec("DELETE FROM emails"); }
  Status Apply(Sql& sql, const RecordedEvent& e) override {
    auto x = Decode<SignedUp>(e.data, cipher_);
    if (!x.has_value()) return x.error();
    const SqlValue email = x->email.forgotten() ? SqlValue() : SqlValue(x->email.value());
    return sql.Exec("INSERT OR REPLACE INTO emails (member, email) VALUES (?, ?)",
                    {x->member, email});
  }

 private:
  PersonalDataCipher* cipher_;
};

TEST_F(PersonalTest, AReadModelRebuiltAfterAnErasureHoldsNoneOfIt) {
  NativeOptions so;
  so.durability = Durability::kNoSyncUnsafe;
  auto store = NativeStore::Open(dir_.Sub("store"), so);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  AggregateOptions o;
  o.cipher = cipher_.get();
  o.snapshot_every = 0;
  AggregateStore<Member> members(store->get(), o);
  for (const char* m : {"m-1", "m-2"}) {
    auto r = members.Handle(
        m, CommandContext{}, [m](const Member::State&) -> Decision<Member::Events::Variant> {
          return Member::Events::Variant(
              SignedUp{m, Personal(std::string(m) + "@example.com"), std::nullopt});
        });
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  Emails emails(cipher_.get());
  ProjectionOptions po;
  po.database_path = dir_.Sub("emails.db");
  po.category = "member";
  auto runner = ProjectionRunner::Start(store->get(), &emails, po);
  ASSERT_TRUE(runner.has_value()) << runner.error().ToString();
  const Position last((*store)->HeadPosition()->value() - 1);
  ASSERT_TRUE((*runner)->WaitFor(last, std::chrono::seconds(30)).ok());
  auto rows = [&] {
    auto sql = Sql::Open(po.database_path);
    EXPECT_TRUE(sql.has_value());
    auto r = (*sql)->Query("SELECT member, email FROM emails ORDER BY member");
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : std::vector<SqlRow>{};
  };
  EXPECT_EQ(rows(), (std::vector<SqlRow>{{std::string("m-1"), std::string("m-1@example.com")},
                                         {std::string("m-2"), std::string("m-2@example.com")}}));
  ASSERT_TRUE(cipher_->Forget("m-1").ok());
  ASSERT_TRUE((*runner)->Rebuild().ok());
  ASSERT_TRUE((*runner)->WaitFor(last, std::chrono::seconds(30)).ok());
  EXPECT_EQ(rows(), (std::vector<SqlRow>{{std::string("m-1"), SqlValue()},
                                         {std::string("m-2"), std::string("m-2@example.com")}}));
  ASSERT_TRUE((*runner)->Stop().ok());
}

TEST_F(PersonalTest, SchemaMarksPersonalFields) {
  const std::string s = SchemaOf<SignedUp>();
  EXPECT_NE(s.find(R"("email": {
      "type": [
        "string",
        "null"
      ],
      "pattern": "^cairn:v1:[A-Za-z0-9_-]+$",
      "x-cairn-personal-data": {
        "subject": "member"
      }
    })"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace cairn::toolkit
