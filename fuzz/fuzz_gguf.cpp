// libFuzzer entry for the GGUF parser: any bytes must parse or fail cleanly.
#include <cstddef>
#include <cstdint>

#include "gguf/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = minnow::GgufFile::parse({data, size});
  if (f.ok()) {
    volatile uint64_t sum = 0;
    for (const auto& t : f->tensors()) {
      auto bytes = f->tensor_data(t);
      if (!bytes.empty()) sum += bytes.front() + bytes.back();  // touch both ends
    }
    for (const auto& kv : f->metadata()) sum += kv.second.to_display().size();
  }
  return 0;
}
