#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace minnow {
namespace {

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

void softmax(std::vector<Candidate>& c) {
  const float mx = c.front().logit;  // sorted descending
  double sum = 0;
  for (auto& x : c) {
    x.p = std::exp(x.logit - mx);
    sum += x.p;
  }
  for (auto& x : c) x.p = float(x.p / sum);
}

// Keeps the smallest prefix whose probability mass reaches `mass`.
void keep_mass(std::vector<Candidate>& c, float mass) {
  double cum = 0;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= mass) {
      keep = i + 1;
      break;
    }
  }
  c.resize(std::max<size_t>(keep, 1));
}

}  // namespace

Sampler::Sampler(SamplingParams params, std::unique_ptr<GrammarMatcher> grammar)
    : p_(std::move(params)), grammar_(std::move(grammar)), rng_(p_.seed) {}

Sampler::~Sampler() = default;

Status Sampler::accept(int32_t token) {
  if (grammar_) MINNOW_TRY(grammar_->accept(token));
  if (p_.penalty_last_n <= 0) return Status::success();
  recent_.push_back(token);
  ++counts_[token];
  if (recent_.size() > size_t(p_.penalty_last_n)) {
    if (--counts_[recent_.front()] == 0) counts_.erase(recent_.front());
    recent_.pop_front();
  }
  return Status::success();
}

void Sampler::apply_bias_and_penalties(std::span<float> logits) const {
  for (const auto& [id, bias] : p_.logit_bias)
    if (id >= 0 && size_t(id) < logits.size()) logits[size_t(id)] += bias;
  for (const auto& [id, count] : counts_) {
    if (id < 0 || size_t(id) >= logits.size()) continue;
    float& l = logits[size_t(id)];
    if (p_.repeat_penalty != 1.0f) l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
    l -= float(count) * p_.frequency_penalty + p_.presence_penalty;
  }
}

int32_t Sampler::sample(std::span<float> logits) {
  apply_bias_and_penalties(logits);
  const auto argmax = [&] { return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin()); };
  if (grammar_) {
    if (p_.temperature <= 0.0f) {
      const int32_t best = argmax();
      if (grammar_->allows(best)) return best;
    }
    grammar_->mask(logits);
    if (std::none_of(logits.begin(), logits.end(), [](float l) { return std::isfinite(l); })) return kNoToken;
  }
  if (p_.temperature <= 0.0f) return argmax();

  // Masked (-inf) tokens never enter the chain.
  std::vector<Candidate> c;
  c.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != -std::numeric_limits<float>::infinity()) c.push_back({int32_t(i), logits[i], 0.0f});
  if (c.empty()) return argmax();
  const auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; };
  if (p_.top_k > 0 && size_t(p_.top_k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + p_.top_k, c.end(), by_logit);
    c.resize(size_t(p_.top_k));
  } else {
    std::sort(c.begin(), c.end(), by_logit);
  }
  softmax(c);
  if (p_.typical_p < 1.0f) {
    // Locally typical: prefer tokens whose surprise is close to the entropy.
    double entropy = 0;
    for (const auto& x : c) entropy -= x.p > 0 ? x.p * std::log(x.p) : 0.0;
    std::stable_sort(c.begin(), c.end(), [&](const Candidate& a, const Candidate& b) {
      return std::abs(-std::log(a.p) - entropy) < std::abs(-std::log(b.p) - entropy);
    });
    keep_mass(c, p_.typical_p);
    std::sort(c.begin(), c.end(), by_logit);
    softmax(c);
  }
  if (p_.top_p < 1.0f) {
    keep_mass(c, p_.top_p);
    softmax(c);
  }
  if (p_.min_p > 0.0f) {
    const float floor = c.front().p * p_.min_p;
    size_t keep = 1;
    while (keep < c.size() && c[keep].p >= floor) ++keep;
    c.resize(keep);
  }
  for (auto& x : c) x.logit /= p_.temperature;
  softmax(c);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  double r = uni(rng_), cum = 0;
  for (const auto& x : c) {
    cum += x.p;
    if (r < cum) return x.id;
  }
  return c.back().id;
}

}  // namespace minnow
