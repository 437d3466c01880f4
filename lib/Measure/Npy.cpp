//===- Npy.cpp - NumPy .npy arrays for runner inputs and outputs ----------===//

#include "tcl/Measure/Npy.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <optional>

using namespace tcl;

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct DType {
  const char *descr;
  const char *mlir;
  unsigned bytes;
};
constexpr DType kDTypes[] = {
    {"<f4", "f32", 4}, {"<f8", "f64", 8}, {"<f2", "f16", 2},
    {"|i1", "i8", 1},  {"<i4", "i32", 4}, {"<i8", "i64", 8},
};

const DType *findByDescr(llvm::StringRef descr) {
  for (const DType &t : kDTypes)
    if (descr == t.descr)
      return &t;
  return nullptr;
}

const DType *findByMLIR(llvm::StringRef type) {
  for (const DType &t : kDTypes)
    if (type == t.mlir)
      return &t;
  return nullptr;
}

/// The value of `'key':` in a Python dict literal, up to the next top-level
/// comma or the closing brace, trimmed.
std::optional<llvm::StringRef> dictValue(llvm::StringRef header,
                                         llvm::StringRef key) {
  std::string quoted = ("'" + key + "'").str();
  size_t at = header.find(quoted);
  if (at == llvm::StringRef::npos)
    return std::nullopt;
  llvm::StringRef rest = header.drop_front(at + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  int depth = 0;
  size_t end = 0;
  for (; end < rest.size(); ++end) {
    char c = rest[end];
    if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  return rest.take_front(end).trim();
}
} // namespace

llvm::Expected<NpyArray> tcl::readNpy(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError("'" + path + "': " + why);
  };
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return fail(file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with(llvm::StringRef(kMagic, kMagicSize)))
    return fail("not a .npy file (bad magic string)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   static_cast<unsigned char>(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength = headerLength << 8 | static_cast<unsigned char>(bytes[8 + i]);
    headerStart = 12;
  } else {
    return fail("unsupported .npy version " + llvm::Twine(major));
  }
  if (bytes.size() < headerStart + headerLength)
    return fail("truncated header");
  llvm::StringRef header = bytes.substr(headerStart, headerLength);

  std::optional<llvm::StringRef> descr = dictValue(header, "descr");
  std::optional<llvm::StringRef> fortran = dictValue(header, "fortran_order");
  std::optional<llvm::StringRef> shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail("malformed header '" + header.trim() + "'");
  if (*fortran != "False")
    return fail("Fortran-order arrays are not supported (save a C-order "
                "array, e.g. numpy.ascontiguousarray)");
  llvm::StringRef descrText = descr->trim("'\"");
  const DType *dtype = findByDescr(descrText);
  if (!dtype)
    return fail("unsupported dtype '" + descrText +
                "' (expected little-endian float32/float64/float16/int8/"
                "int32/int64)");

  NpyArray array;
  array.elementType = dtype->mlir;
  llvm::StringRef dims = shapeText->trim();
  if (!dims.consume_front("(") || !dims.consume_back(")"))
    return fail("malformed shape '" + *shapeText + "'");
  size_t numElements = 1;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    int64_t size;
    if (part.trim().getAsInteger(10, size) || size < 0)
      return fail("malformed shape '" + *shapeText + "'");
    array.shape.push_back(size);
    numElements *= static_cast<size_t>(size);
  }
  size_t dataBytes = numElements * dtype->bytes;
  size_t available = bytes.size() - headerStart - headerLength;
  if (available != dataBytes)
    return fail("holds " + llvm::Twine(available) + " bytes of data, shape " +
                *shapeText + " of " + descrText + " needs " +
                llvm::Twine(dataBytes));
  const char *begin = bytes.data() + headerStart + headerLength;
  array.data.assign(begin, begin + dataBytes);
  return array;
}

llvm::Error tcl::writeNpy(llvm::StringRef path, llvm::StringRef elementType,
                          llvm::ArrayRef<int64_t> shape, const void *bytes) {
  const DType *dtype = findByMLIR(elementType);
  if (!dtype)
    return llvm::createStringError("cannot write '" + path +
                                   "': unsupported element type '" +
                                   elementType + "'");
  std::string header;
  llvm::raw_string_ostream os(header);
  os << "{'descr': '" << dtype->descr << "', 'fortran_order': False, "
     << "'shape': (";
  size_t numElements = 1;
  for (int64_t size : shape) {
    os << size << ", ";
    numElements *= static_cast<size_t>(size);
  }
  if (!shape.empty())
    header.resize(header.size() - (shape.size() == 1 ? 1 : 2));
  os << "), }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces
  // to a multiple of 64 bytes.
  size_t total = llvm::alignTo(10 + header.size() + 1, 64);
  header.append(total - 10 - header.size() - 1, ' ');
  header.push_back('\n');

  std::string temp = (path + ".tmp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(temp, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError("cannot write '" + temp +
                                     "': " + ec.message());
    out.write(kMagic, kMagicSize);
    out << '\x01' << '\x00';
    out << static_cast<char>(header.size() & 0xff)
        << static_cast<char>(header.size() >> 8);
    out << header;
    out.write(static_cast<const char *>(bytes), numElements * dtype->bytes);
    out.close();
    if (out.has_error()) {
      std::string message = out.error().message();
      out.clear_error();
      llvm::sys::fs::remove(temp);
      return llvm::createStringError("cannot write '" + temp + "': " + message);
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return llvm::createStringError("cannot rename '" + temp + "' to '" + path +
                                   "': " + ec.message());
  }
  return llvm::Error::success();
}
