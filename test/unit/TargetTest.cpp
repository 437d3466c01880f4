//===- TargetTest.cpp - Target parsing and platform fingerprints ----------===//

#include "tcl/Target/Target.h"

#include "gtest/gtest.h"

using namespace tcl;

TEST(TargetTest, ParsesIsaAndThreads) {
  llvm::Expected<Target> t = Target::parse("cpu:sse4.2,threads=1");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->isa, ISA::SSE42);
  EXPECT_EQ(t->threads, 1u);
  EXPECT_EQ(t->vectorWidthF32, 4u);
  EXPECT_EQ(t->cpu, "nehalem");
  EXPECT_EQ(t->str(), "cpu:sse4.2,threads=1");
}

TEST(TargetTest, HostUsesAllCoresAndHostCpu) {
  llvm::Expected<Target> t = Target::parse("cpu");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->isa, ISA::Host);
  EXPECT_EQ(t->threads, hostCoreCount());
  EXPECT_FALSE(t->cpu.empty());
  EXPECT_FALSE(t->features.empty());
}

TEST(TargetTest, RejectsBadSpellings) {
  for (const char *bad : {"gpu", "cpu:avx3", "cpu,threads=0", "cpu,threads=x",
                          "cpu,cores=2"}) {
    llvm::Expected<Target> t = Target::parse(bad);
    ASSERT_FALSE(static_cast<bool>(t)) << bad;
    std::string msg = llvm::toString(t.takeError());
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
}

TEST(TargetTest, PlatformFingerprintNamesMachine) {
  llvm::Expected<Target> t = Target::parse("cpu:avx2,threads=2");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  Platform p = Platform::host(*t);
  EXPECT_FALSE(p.cpuModel.empty());
  EXPECT_EQ(p.id(), "cpu:avx2,threads=2@" + p.cpuModel);
  llvm::json::Object *obj = p.toJSON().getAsObject();
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->getInteger("threads"), 2);
  EXPECT_EQ(obj->getString("isa"), "avx2");
}
