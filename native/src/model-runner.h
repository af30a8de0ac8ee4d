// What the scheduler runs a batch through: the model's forward pass (forward.h), or a fake in
// the scheduler's tests.
#pragma once
#include <cstdint>
#include <vector>

#include "status.h"

namespace xlam {

struct ForwardBatch;

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual int64_t n_vocab() const = 0;
  // logits: f32 [n_out, n_vocab] for batch.logit_rows, row-major on the host.
  virtual Status run(const ForwardBatch& batch, std::vector<float>* logits) = 0;
};

}  // namespace xlam
