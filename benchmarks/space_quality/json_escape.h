//===- json_escape.h - JSON string escaping for benchmark helpers -*- C++ -*-===//
//
// The benchmark helpers print small JSON objects with printf and build
// without LLVM (standalone), so they share this one escaping routine.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_BENCHMARKS_JSON_ESCAPE_H
#define TCL_BENCHMARKS_JSON_ESCAPE_H

#include <cstdio>
#include <string>

/// `s` escaped for use inside a JSON string literal.
inline std::string jsonEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

#endif // TCL_BENCHMARKS_JSON_ESCAPE_H
