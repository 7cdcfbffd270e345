// A loaded model: the validated file, its hyper-parameters, its architecture
// traits and a view of every weight. Immutable after load; shareable.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "base/huge_pages.h"
#include "base/status.h"
#include "gguf/gguf_file.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace minnow {

class Model {
 public:
  static Expected<std::shared_ptr<const Model>> load(const std::string& path);
  static Expected<std::shared_ptr<const Model>> from_file(GgufFile file);

  const GgufFile& file() const { return file_; }
  const ModelHparams& hparams() const { return hp_; }
  const ArchTraits& traits() const { return *traits_; }
  const TensorRef& global(Role r) const { return globals_[size_t(r)]; }
  const TensorRef& layer(uint32_t il, Role r) const { return layers_[il][size_t(r)]; }
  // The output projection: output.weight, or the token embedding when tied.
  const TensorRef& output() const;
  uint64_t weight_bytes() const;

 private:
  GgufFile file_;
  ModelHparams hp_;
  const ArchTraits* traits_ = nullptr;
  std::array<TensorRef, kRoleCount> globals_{};
  std::vector<std::array<TensorRef, kRoleCount>> layers_;
  // Weight matrices repacked for the kernel table, one after another on
  // huge pages (see prepack_weights).
  HugePageBuffer packed_;

  void prepack_weights();
};

}  // namespace minnow
