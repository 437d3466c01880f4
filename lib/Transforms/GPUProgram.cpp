//===- GPUProgram.cpp - JSON form of a lowered GPU program ----------------===//

#include "tcl/Transforms/GPUProgram.h"

#include "llvm/ADT/StringSet.h"

using namespace tcl;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Path;
using llvm::json::Value;

int64_t GPUBuffer::numElements() const {
  int64_t n = 1;
  for (int64_t size : shape)
    n *= size;
  return n;
}

int64_t GPUProgram::numParameters(const GPULaunch &launch) const {
  int64_t n = 0;
  for (const GPUOperand &operand : launch.operands)
    n += operand.kind == GPUOperand::Kind::Buffer
             ? 3 + 2 * static_cast<int64_t>(
                           buffers[operand.buffer].shape.size())
             : 1;
  return n;
}

llvm::Error tcl::checkPTXParameters(const GPUProgram &program) {
  for (const GPULaunch &launch : program.launches) {
    auto it = program.ptx.find(launch.module);
    llvm::StringRef ptx;
    if (it != program.ptx.end())
      ptx = it->second;
    size_t entry = ptx.find(".entry " + launch.kernel + "(");
    if (entry == llvm::StringRef::npos)
      return llvm::createStringError("the PTX of module '" + launch.module +
                                     "' has no entry '" + launch.kernel + "'");
    llvm::StringRef list = ptx.drop_front(entry);
    list = list.take_until([](char c) { return c == ')'; });
    size_t count = 0;
    for (size_t at = list.find(".param"); at != llvm::StringRef::npos;
         at = list.find(".param", at + 1))
      ++count;
    int64_t expected = program.numParameters(launch);
    if (static_cast<int64_t>(count) != expected)
      return llvm::createStringError(
          "kernel '" + launch.kernel + "' takes " + llvm::Twine(count) +
          " parameters in its PTX, but its launch passes " +
          llvm::Twine(expected));
  }
  return llvm::Error::success();
}

static Array dims(llvm::ArrayRef<int64_t> values) {
  Array out;
  for (int64_t v : values)
    out.push_back(v);
  return out;
}

Value tcl::toJSON(const GPUProgram &program) {
  Array buffers;
  for (const GPUBuffer &buffer : program.buffers)
    buffers.push_back(Object{{"type", buffer.elementType},
                             {"shape", dims(buffer.shape)},
                             {"argument", buffer.argument}});
  Array launches;
  for (const GPULaunch &launch : program.launches) {
    Array operands;
    for (const GPUOperand &operand : launch.operands) {
      switch (operand.kind) {
      case GPUOperand::Kind::Buffer:
        operands.push_back(Object{{"buffer", operand.buffer}});
        break;
      case GPUOperand::Kind::Integer:
        operands.push_back(
            Object{{"int", operand.intValue}, {"type", operand.type}});
        break;
      case GPUOperand::Kind::Float:
        operands.push_back(
            Object{{"float", operand.floatValue}, {"type", operand.type}});
        break;
      }
    }
    launches.push_back(Object{{"module", launch.module},
                              {"kernel", launch.kernel},
                              {"grid", dims(launch.grid)},
                              {"block", dims(launch.block)},
                              {"operands", std::move(operands)}});
  }
  Object ptx;
  for (const auto &[module, text] : program.ptx)
    ptx[module] = text;
  return Object{{"function", program.function},
                {"buffers", std::move(buffers)},
                {"launches", std::move(launches)},
                {"result", program.result},
                {"ptx", std::move(ptx)}};
}

namespace {
/// Reads the fields of one program, reporting the first problem at its path.
struct ProgramReader {
  GPUProgram program;

  bool positive(llvm::ArrayRef<int64_t> values, Path path) {
    for (auto [i, v] : llvm::enumerate(values))
      if (v <= 0) {
        path.index(i).report("must be positive");
        return false;
      }
    return true;
  }

  bool readDims3(const Object &o, llvm::StringRef key,
                 std::array<int64_t, 3> &out, Path path) {
    std::vector<int64_t> values;
    if (!llvm::json::fromJSON(o.get(key) ? *o.get(key) : Value(nullptr),
                              values, path.field(key)))
      return false;
    if (values.size() != 3) {
      path.field(key).report("expected [x, y, z]");
      return false;
    }
    std::copy(values.begin(), values.end(), out.begin());
    return positive(values, path.field(key));
  }

  bool readBuffer(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    GPUBuffer buffer;
    std::vector<int64_t> shape;
    llvm::json::ObjectMapper m(v, path);
    if (!o || !m || !m.map("type", buffer.elementType) ||
        !m.map("shape", shape) || !m.map("argument", buffer.argument))
      return false;
    static const llvm::StringSet<> types = {"f32", "f16", "bf16", "f64",
                                            "i8",  "i32", "i64"};
    if (!types.contains(buffer.elementType)) {
      path.field("type").report("unknown element type");
      return false;
    }
    if (!positive(shape, path.field("shape")))
      return false;
    buffer.shape.assign(shape.begin(), shape.end());
    program.buffers.push_back(std::move(buffer));
    return true;
  }

  bool readOperand(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    if (!o) {
      path.report("expected an object");
      return false;
    }
    GPUOperand operand;
    llvm::json::ObjectMapper m(v, path);
    if (o->get("buffer")) {
      if (!m.map("buffer", operand.buffer))
        return false;
      if (operand.buffer < 0 ||
          operand.buffer >= static_cast<int64_t>(program.buffers.size())) {
        path.field("buffer").report("buffer index out of range");
        return false;
      }
    } else if (o->get("int")) {
      operand.kind = GPUOperand::Kind::Integer;
      if (!m.map("int", operand.intValue) || !m.map("type", operand.type))
        return false;
      if (operand.type != "i64" && operand.type != "i32") {
        path.field("type").report("expected i64 or i32");
        return false;
      }
    } else if (o->get("float")) {
      operand.kind = GPUOperand::Kind::Float;
      if (!m.map("float", operand.floatValue) || !m.map("type", operand.type))
        return false;
      if (operand.type != "f16" && operand.type != "bf16" &&
          operand.type != "f32" && operand.type != "f64") {
        path.field("type").report("expected f16, bf16, f32 or f64");
        return false;
      }
    } else {
      path.report("expected \"buffer\", \"int\" or \"float\"");
      return false;
    }
    program.launches.back().operands.push_back(std::move(operand));
    return true;
  }

  bool readLaunch(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    llvm::json::ObjectMapper m(v, path);
    program.launches.emplace_back();
    GPULaunch &launch = program.launches.back();
    if (!o || !m || !m.map("module", launch.module) ||
        !m.map("kernel", launch.kernel) ||
        !readDims3(*o, "grid", launch.grid, path) ||
        !readDims3(*o, "block", launch.block, path))
      return false;
    if (!program.ptx.count(launch.module)) {
      path.field("module").report("no PTX for this kernel module");
      return false;
    }
    const Array *operands = o->getArray("operands");
    if (!operands) {
      path.field("operands").report("expected an array");
      return false;
    }
    for (auto [i, operand] : llvm::enumerate(*operands))
      if (!readOperand(operand, path.field("operands").index(i)))
        return false;
    return true;
  }

  bool read(const Value &v, Path path) {
    const Object *o = v.getAsObject();
    llvm::json::ObjectMapper m(v, path);
    if (!o || !m || !m.map("function", program.function) ||
        !m.map("result", program.result))
      return false;
    std::map<std::string, std::string> ptx;
    if (!m.map("ptx", ptx))
      return false;
    program.ptx = std::move(ptx);
    const Array *buffers = o->getArray("buffers");
    const Array *launches = o->getArray("launches");
    if (!buffers || !launches) {
      path.field(buffers ? "launches" : "buffers").report("expected an array");
      return false;
    }
    for (auto [i, buffer] : llvm::enumerate(*buffers))
      if (!readBuffer(buffer, path.field("buffers").index(i)))
        return false;
    for (auto [i, launch] : llvm::enumerate(*launches))
      if (!readLaunch(launch, path.field("launches").index(i)))
        return false;
    if (program.result < -1 ||
        program.result >= static_cast<int64_t>(program.buffers.size())) {
      path.field("result").report("buffer index out of range");
      return false;
    }
    return true;
  }
};
} // namespace

llvm::Expected<GPUProgram> tcl::programFromJSON(const Value &value) {
  Path::Root root("GPU program");
  ProgramReader reader;
  if (!reader.read(value, root))
    return root.getError();
  return std::move(reader.program);
}
