#include "config.h"

#include <cmath>

#include "json.h"

namespace xlam {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::kLlama: return "llama";
    case Arch::kMistral: return "mistral";
    case Arch::kQwen2: return "qwen2";
    case Arch::kMixtral: return "mixtral";
  }
  return "?";
}

const char* rope_type_name(RopeType t) {
  switch (t) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kLlama3: return "llama3";
    case RopeType::kYarn: return "yarn";
  }
  return "?";
}

namespace {

// Reads typed fields from one JSON object and reports problems as BAD_CONFIG naming the field.
class Fields {
 public:
  Fields(const json::Value& obj, const std::string& file, std::string prefix = {})
      : obj_(obj), file_(file), prefix_(std::move(prefix)) {}

  Status bad(const std::string& key, const std::string& what) const {
    return Status::Error(Code::kBadConfig, file_ + ": " + prefix_ + key + " " + what, file_);
  }

  bool has(const char* key) const { return obj_.find(key) != nullptr; }
  bool has_non_null(const char* key) const {
    const json::Value* v = obj_.find(key);
    return v && !v->is_null();
  }

  // Integer field. Absent -> def (and *present = false). null -> def when null_ok, else error.
  Status integer(const char* key, int64_t def, int64_t* out, bool null_ok, bool* present = nullptr) const {
    int64_t v = 0;
    if (present) *present = false;
    switch (json::get_int64(obj_, key, &v)) {
      case json::Get::kOk:
        *out = v;
        if (present) *present = true;
        return Status::Ok();
      case json::Get::kMissing:
        *out = def;
        return Status::Ok();
      case json::Get::kNull:
        if (!null_ok) return bad(key, "must be an integer, got null");
        *out = def;
        return Status::Ok();
      case json::Get::kWrongType:
        break;
    }
    return bad(key, "must be an integer" + got(key));
  }

  // Number field (integer or float literal).
  Status number(const char* key, double def, double* out, bool null_ok, bool* present = nullptr) const {
    double v = 0;
    if (present) *present = false;
    switch (json::get_double(obj_, key, &v)) {
      case json::Get::kOk:
        if (!std::isfinite(v)) return bad(key, "must be finite");
        *out = v;
        if (present) *present = true;
        return Status::Ok();
      case json::Get::kMissing:
        *out = def;
        return Status::Ok();
      case json::Get::kNull:
        if (!null_ok) return bad(key, "must be a number, got null");
        *out = def;
        return Status::Ok();
      case json::Get::kWrongType:
        break;
    }
    return bad(key, "must be a number" + got(key));
  }

  Status boolean(const char* key, bool def, bool* out) const {
    bool v = false;
    switch (json::get_bool(obj_, key, &v)) {
      case json::Get::kOk: *out = v; return Status::Ok();
      case json::Get::kMissing:
      case json::Get::kNull: *out = def; return Status::Ok();
      case json::Get::kWrongType: break;
    }
    return bad(key, "must be true or false" + got(key));
  }

  Status string(const char* key, const std::string& def, std::string* out) const {
    std::string v;
    switch (json::get_string(obj_, key, &v)) {
      case json::Get::kOk: *out = std::move(v); return Status::Ok();
      case json::Get::kMissing:
      case json::Get::kNull: *out = def; return Status::Ok();
      case json::Get::kWrongType: break;
    }
    return bad(key, "must be a string" + got(key));
  }

  // Token id(s): int, list of ints, or null. Each in [0, 2^31).
  Status token_ids(const char* key, const std::vector<int64_t>& def, std::vector<int64_t>* out) const {
    const json::Value* v = obj_.find(key);
    if (!v) {
      *out = def;
      return Status::Ok();
    }
    out->clear();
    if (v->is_null()) return Status::Ok();
    auto one = [&](const json::Value& x) -> Status {
      int64_t id = 0;
      if (!x.get_int64(&id)) return bad(key, "must be an integer token id or a list of them");
      if (id < 0 || id >= kMaxVocab) return bad(key, "token id " + std::to_string(id) + " is out of range");
      out->push_back(id);
      return Status::Ok();
    };
    if (v->is_array()) {
      for (const json::Value& x : v->items) XLAM_TRY(one(x));
      return Status::Ok();
    }
    return one(*v);
  }

  Status token_id(const char* key, int64_t def, int64_t* out) const {
    int64_t v = def;
    bool present = false;
    XLAM_TRY(integer(key, def, &v, /*null_ok=*/true, &present));
    if (!has(key)) {
      *out = def;
      return Status::Ok();
    }
    if (!present) {  // null
      *out = -1;
      return Status::Ok();
    }
    if (v < 0 || v >= kMaxVocab) return bad(key, "token id " + std::to_string(v) + " is out of range");
    *out = v;
    return Status::Ok();
  }

  Status range(const char* key, int64_t v, int64_t lo, int64_t hi) const {
    if (v < lo || v > hi)
      return bad(key, "= " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
    return Status::Ok();
  }

 private:
  std::string got(const char* key) const {
    const json::Value* v = obj_.find(key);
    if (!v) return {};
    if (v->is_number()) return ", got " + v->text;
    return std::string(", got ") + json::type_name(v->type);
  }

  const json::Value& obj_;
  const std::string& file_;
  std::string prefix_;
};

struct ArchDefaults {
  int64_t vocab, hidden, intermediate, layers, heads, kv_heads;  // kv_heads 0: = heads
  int64_t max_pos;
  double eps, theta;
  int64_t bos, eos;  // -1: none
};

ArchDefaults defaults_for(Arch a) {
  switch (a) {
    case Arch::kLlama: return {32000, 4096, 11008, 32, 32, 0, 2048, 1e-6, 10000.0, 1, 2};
    case Arch::kMistral: return {32000, 4096, 14336, 32, 32, 8, 131072, 1e-6, 10000.0, 1, 2};
    case Arch::kQwen2: return {151936, 4096, 22016, 32, 32, 32, 32768, 1e-6, 10000.0, -1, -1};
    case Arch::kMixtral: return {32000, 4096, 14336, 32, 32, 8, 131072, 1e-5, 1000000.0, 1, 2};
  }
  return {};
}

Status parse_json_object(std::string_view text, const std::string& file, json::Value* root) {
  json::ParseOptions opts;
  opts.reject_duplicate_keys = true;  // Python's json keeps the last; an ambiguous config is rejected
  json::ParseError err;
  if (!json::parse(text, root, &err, opts))
    return Status::Error(Code::kBadConfig, file + ": invalid JSON: " + err.message, file);
  if (!root->is_object())
    return Status::Error(Code::kBadConfig, file + ": top level must be a JSON object", file);
  return Status::Ok();
}

double get_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

// Reads the rope dict and resolves RopeScaling + rope_theta (see config.h for the semantics).
Status parse_rope(const json::Value& root, const Fields& top, double default_theta, ModelConfig* cfg,
                  const std::string& file) {
  // transformers: rope_parameters = rope_scaling or rope_parameters (a non-empty rope_scaling wins).
  const json::Value* dict = nullptr;
  const char* dict_name = nullptr;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const json::Value* v = root.find(key);
    if (!v || v->is_null()) continue;
    if (!v->is_object()) return top.bad(key, "must be an object or null");
    if (v->members.empty()) continue;
    dict = v;
    dict_name = key;
    break;
  }

  // rope_theta: dict value, else top-level, else the architecture default.
  double theta = default_theta;
  XLAM_TRY(top.number("rope_theta", default_theta, &theta, /*null_ok=*/true));
  double partial = 1.0;
  XLAM_TRY(top.number("partial_rotary_factor", 1.0, &partial, true));

  RopeScaling& r = cfg->rope;
  r = RopeScaling{};
  if (dict) {
    Fields f(*dict, file, std::string(dict_name) + ".");
    for (const char* layer_key : {"full_attention", "sliding_attention"})
      if (dict->find(layer_key)) return f.bad(layer_key, "per-layer-type RoPE parameters are not supported");
    XLAM_TRY(f.number("rope_theta", theta, &theta, true));
    XLAM_TRY(f.number("partial_rotary_factor", partial, &partial, true));
    std::string type;
    XLAM_TRY(f.string("type", "default", &type));
    XLAM_TRY(f.string("rope_type", type, &type));
    if (type == "default") {
      r.type = RopeType::kDefault;
    } else if (type == "linear") {
      r.type = RopeType::kLinear;
    } else if (type == "llama3") {
      r.type = RopeType::kLlama3;
    } else if (type == "yarn") {
      r.type = RopeType::kYarn;
    } else {
      return f.bad("rope_type", "\"" + type + "\": unsupported rope_scaling type (supported: default, linear, llama3, yarn)");
    }

    if (r.type == RopeType::kLlama3 || r.type == RopeType::kYarn) {
      // transformers: a top-level original_max_position_embeddings wins; else the dict's; else
      // max_position_embeddings.
      int64_t orig = cfg->max_position_embeddings;
      bool top_has = false;
      XLAM_TRY(top.integer("original_max_position_embeddings", orig, &orig, true, &top_has));
      if (!top_has) XLAM_TRY(f.integer("original_max_position_embeddings", cfg->max_position_embeddings, &orig, true));
      if (orig < 1 || orig > kMaxPositions)
        return f.bad("original_max_position_embeddings", "= " + std::to_string(orig) + " is out of range");
      r.original_max_position_embeddings = orig;
    }

    switch (r.type) {
      case RopeType::kDefault:
        break;
      case RopeType::kLinear:
        if (!f.has_non_null("factor")) return f.bad("factor", "is required for linear RoPE");
        XLAM_TRY(f.number("factor", 1.0, &r.factor, false));
        if (!(r.factor > 0)) return f.bad("factor", "must be > 0");
        break;
      case RopeType::kLlama3:
        for (const char* k : {"factor", "low_freq_factor", "high_freq_factor"})
          if (!f.has_non_null(k)) return f.bad(k, "is required for llama3 RoPE");
        XLAM_TRY(f.number("factor", 1.0, &r.factor, false));
        XLAM_TRY(f.number("low_freq_factor", 1.0, &r.low_freq_factor, false));
        XLAM_TRY(f.number("high_freq_factor", 4.0, &r.high_freq_factor, false));
        if (!(r.factor > 0)) return f.bad("factor", "must be > 0");
        if (!(r.low_freq_factor > 0)) return f.bad("low_freq_factor", "must be > 0");
        if (!(r.high_freq_factor > r.low_freq_factor))
          return f.bad("high_freq_factor", "must be greater than low_freq_factor");
        break;
      case RopeType::kYarn: {
        if (!f.has("factor")) return f.bad("factor", "is required for yarn RoPE");
        if (f.has_non_null("factor")) {
          XLAM_TRY(f.number("factor", 1.0, &r.factor, false));
        } else {
          r.factor = static_cast<double>(cfg->max_position_embeddings) /
                     static_cast<double>(r.original_max_position_embeddings);
        }
        if (!(r.factor > 0)) return f.bad("factor", "must be > 0");
        XLAM_TRY(f.number("beta_fast", 32.0, &r.beta_fast, true));
        XLAM_TRY(f.number("beta_slow", 1.0, &r.beta_slow, true));
        if (r.beta_fast == 0) r.beta_fast = 32.0;  // `get("beta_fast") or 32`
        if (r.beta_slow == 0) r.beta_slow = 1.0;
        if (!(r.beta_fast > 0) || !(r.beta_slow > 0)) return f.bad("beta_fast", "and beta_slow must be > 0");
        XLAM_TRY(f.number("mscale", 0.0, &r.mscale, true));
        XLAM_TRY(f.number("mscale_all_dim", 0.0, &r.mscale_all_dim, true));
        // `rope_parameters.get("truncate", True)`: an explicit null is falsy.
        if (f.has("truncate") && !f.has_non_null("truncate")) {
          r.truncate = false;
        } else {
          XLAM_TRY(f.boolean("truncate", true, &r.truncate));
        }
        double af = 0;
        XLAM_TRY(f.number("attention_factor", 0.0, &af, true, &r.attention_factor_given));
        if (r.attention_factor_given) {
          if (!(af > 0)) return f.bad("attention_factor", "must be > 0");
          r.attention_factor = af;
        } else if (r.mscale != 0 && r.mscale_all_dim != 0) {
          r.attention_factor = get_mscale(r.factor, r.mscale) / get_mscale(r.factor, r.mscale_all_dim);
        } else {
          r.attention_factor = get_mscale(r.factor, 1.0);
        }
        if (!std::isfinite(r.attention_factor) || !(r.attention_factor > 0))
          return f.bad("attention_factor", "resolves to a non-finite or non-positive value");
        break;
      }
    }
  }
  if (partial != 1.0) return top.bad("partial_rotary_factor", "other than 1 is not supported");
  if (!(theta > 0) || !std::isfinite(theta)) return top.bad("rope_theta", "must be a finite number > 0");
  if (r.type == RopeType::kYarn && !(theta > 1)) return top.bad("rope_theta", "must be > 1 for yarn RoPE");
  cfg->rope_theta = theta;
  return Status::Ok();
}

Status parse_windows(const json::Value& root, const Fields& top, ModelConfig* cfg) {
  const size_t n = static_cast<size_t>(cfg->num_hidden_layers);
  cfg->sliding_window.assign(n, 0);
  if (cfg->arch == Arch::kLlama) return Status::Ok();

  auto read_window = [&](int64_t def, int64_t* w) -> Status {
    const json::Value* v = root.find("sliding_window");
    if (v && v->is_null()) {
      *w = 0;
      return Status::Ok();
    }
    XLAM_TRY(top.integer("sliding_window", def, w, true));
    if (*w == 0 && !v) return Status::Ok();
    return top.range("sliding_window", *w, 1, int64_t{1} << 30);
  };

  if (cfg->arch == Arch::kMistral || cfg->arch == Arch::kMixtral) {
    int64_t w = 0;
    XLAM_TRY(read_window(cfg->arch == Arch::kMistral ? 4096 : 0, &w));
    for (size_t i = 0; i < n; ++i) cfg->sliding_window[i] = static_cast<int32_t>(w);
    return Status::Ok();
  }

  // qwen2
  bool use_sliding = false;
  XLAM_TRY(top.boolean("use_sliding_window", false, &use_sliding));
  int64_t max_window_layers = 28;
  XLAM_TRY(top.integer("max_window_layers", 28, &max_window_layers, true));
  const json::Value* types = root.find("layer_types");
  std::vector<bool> sliding(n, false);
  if (types && !types->is_null()) {
    if (!types->is_array() || types->items.size() != n)
      return top.bad("layer_types", "must be a list with one entry per layer (" + std::to_string(n) + ")");
    for (size_t i = 0; i < n; ++i) {
      const json::Value& t = types->items[i];
      if (t.is_string() && t.text == "sliding_attention") {
        sliding[i] = true;
      } else if (!(t.is_string() && t.text == "full_attention")) {
        return top.bad("layer_types", "entry " + std::to_string(i) +
                                          " must be \"full_attention\" or \"sliding_attention\"");
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) sliding[i] = static_cast<int64_t>(i) >= max_window_layers;
  }
  if (!use_sliding) return Status::Ok();
  int64_t w = 0;
  XLAM_TRY(read_window(4096, &w));
  if (w == 0) return Status::Ok();
  for (size_t i = 0; i < n; ++i)
    if (sliding[i]) cfg->sliding_window[i] = static_cast<int32_t>(w);
  return Status::Ok();
}

}  // namespace

Status parse_model_config(std::string_view json_text, const std::string& file, ModelConfig* out) {
  *out = ModelConfig{};
  json::Value root;
  XLAM_TRY(parse_json_object(json_text, file, &root));
  Fields top(root, file);
  ModelConfig cfg;

  const json::Value* mt = root.find("model_type");
  if (!mt || mt->is_null())
    return Status::Error(Code::kUnknownModelType, file + ": no model_type (supported: llama, mistral, qwen2, mixtral)",
                         file);
  if (!mt->is_string()) return top.bad("model_type", "must be a string");
  cfg.model_type = mt->text;
  if (cfg.model_type == "llama") {
    cfg.arch = Arch::kLlama;
  } else if (cfg.model_type == "mistral") {
    cfg.arch = Arch::kMistral;
  } else if (cfg.model_type == "qwen2") {
    cfg.arch = Arch::kQwen2;
  } else if (cfg.model_type == "mixtral") {
    cfg.arch = Arch::kMixtral;
  } else {
    return Status::Error(Code::kUnknownModelType,
                         file + ": model_type \"" + cfg.model_type + "\" is not supported (llama, mistral, qwen2, mixtral)",
                         file);
  }
  const ArchDefaults d = defaults_for(cfg.arch);

  XLAM_TRY(top.integer("vocab_size", d.vocab, &cfg.vocab_size, false));
  XLAM_TRY(top.integer("hidden_size", d.hidden, &cfg.hidden_size, false));
  XLAM_TRY(top.integer("intermediate_size", d.intermediate, &cfg.intermediate_size, false));
  XLAM_TRY(top.integer("num_hidden_layers", d.layers, &cfg.num_hidden_layers, false));
  XLAM_TRY(top.integer("num_attention_heads", d.heads, &cfg.num_attention_heads, false));
  XLAM_TRY(top.range("vocab_size", cfg.vocab_size, 1, kMaxVocab));
  XLAM_TRY(top.range("hidden_size", cfg.hidden_size, 1, kMaxConfigDim));
  XLAM_TRY(top.range("intermediate_size", cfg.intermediate_size, 1, kMaxConfigDim));
  XLAM_TRY(top.range("num_hidden_layers", cfg.num_hidden_layers, 1, kMaxLayers));
  XLAM_TRY(top.range("num_attention_heads", cfg.num_attention_heads, 1, kMaxConfigDim));

  // num_key_value_heads: null -> heads (every arch's __post_init__).
  if (top.has_non_null("num_key_value_heads")) {
    XLAM_TRY(top.integer("num_key_value_heads", 0, &cfg.num_key_value_heads, false));
  } else if (top.has("num_key_value_heads") || d.kv_heads == 0) {
    cfg.num_key_value_heads = cfg.num_attention_heads;
  } else {
    cfg.num_key_value_heads = d.kv_heads;
  }
  XLAM_TRY(top.range("num_key_value_heads", cfg.num_key_value_heads, 1, cfg.num_attention_heads));
  if (cfg.num_attention_heads % cfg.num_key_value_heads != 0)
    return top.bad("num_key_value_heads", "= " + std::to_string(cfg.num_key_value_heads) +
                                              " does not divide num_attention_heads = " +
                                              std::to_string(cfg.num_attention_heads));

  const bool explicit_head_dim = top.has_non_null("head_dim");
  if (explicit_head_dim) {
    XLAM_TRY(top.integer("head_dim", 0, &cfg.head_dim, true));
    XLAM_TRY(top.range("head_dim", cfg.head_dim, 1, kMaxConfigDim));
  }
  if (!explicit_head_dim || cfg.arch == Arch::kLlama) {
    // LlamaConfig.validate_architecture always requires this; the others need it only to derive head_dim.
    if (cfg.hidden_size % cfg.num_attention_heads != 0)
      return top.bad("hidden_size", "= " + std::to_string(cfg.hidden_size) +
                                        " is not a multiple of num_attention_heads = " +
                                        std::to_string(cfg.num_attention_heads));
  }
  if (!explicit_head_dim) cfg.head_dim = cfg.hidden_size / cfg.num_attention_heads;
  if (cfg.head_dim % 2 != 0)
    return top.bad("head_dim", "= " + std::to_string(cfg.head_dim) + " must be even for rotary embeddings");
  int64_t q_dim = 0;
  if (__builtin_mul_overflow(cfg.num_attention_heads, cfg.head_dim, &q_dim) || q_dim > kMaxConfigDim)
    return top.bad("head_dim", "* num_attention_heads exceeds " + std::to_string(kMaxConfigDim));

  XLAM_TRY(top.integer("max_position_embeddings", d.max_pos, &cfg.max_position_embeddings, false));
  XLAM_TRY(top.range("max_position_embeddings", cfg.max_position_embeddings, 1, kMaxPositions));

  XLAM_TRY(top.number("rms_norm_eps", d.eps, &cfg.rms_norm_eps, false));
  if (!(cfg.rms_norm_eps > 0)) return top.bad("rms_norm_eps", "must be a finite number > 0");

  std::string act;
  XLAM_TRY(top.string("hidden_act", "silu", &act));
  if (act != "silu") return top.bad("hidden_act", "\"" + act + "\" is not supported (only silu)");

  XLAM_TRY(parse_rope(root, top, cfg.arch == Arch::kMixtral ? 1000000.0 : 10000.0, &cfg, file));

  XLAM_TRY(top.boolean("tie_word_embeddings", false, &cfg.tie_word_embeddings));
  switch (cfg.arch) {
    case Arch::kLlama: {
      bool attention_bias = false;
      XLAM_TRY(top.boolean("attention_bias", false, &attention_bias));
      XLAM_TRY(top.boolean("mlp_bias", false, &cfg.mlp_bias));
      cfg.attn_qkv_bias = attention_bias;
      cfg.attn_o_bias = attention_bias;
      break;
    }
    case Arch::kQwen2:
      cfg.attn_qkv_bias = true;
      break;
    case Arch::kMistral:
    case Arch::kMixtral:
      break;
  }

  XLAM_TRY(parse_windows(root, top, &cfg));

  if (cfg.arch == Arch::kMixtral) {
    const char* experts_key = top.has("num_local_experts") ? "num_local_experts" : "num_experts";
    XLAM_TRY(top.integer(experts_key, 8, &cfg.num_local_experts, false));
    XLAM_TRY(top.range(experts_key, cfg.num_local_experts, 1, kMaxExperts));
    XLAM_TRY(top.integer("num_experts_per_tok", 2, &cfg.num_experts_per_tok, false));
    XLAM_TRY(top.range("num_experts_per_tok", cfg.num_experts_per_tok, 1, cfg.num_local_experts));
  }

  XLAM_TRY(top.token_id("bos_token_id", d.bos, &cfg.bos_token_id));
  std::vector<int64_t> eos_def;
  if (d.eos >= 0) eos_def.push_back(d.eos);
  XLAM_TRY(top.token_ids("eos_token_id", eos_def, &cfg.eos_token_ids));

  std::string dtype;
  XLAM_TRY(top.string("torch_dtype", "", &dtype));
  const char* dtype_key = "torch_dtype";
  if (top.has_non_null("dtype")) {
    XLAM_TRY(top.string("dtype", dtype, &dtype));
    dtype_key = "dtype";
  }
  // The checkpoint's dtype as transformers names it (torch dtype names, with or without "torch.").
  static const char* const kTorchDtypes[] = {"float32", "float", "float16", "half", "bfloat16", "float64", "double",
                                             "float8_e4m3fn", "float8_e5m2", "int8", "uint8", "auto"};
  std::string bare = dtype.rfind("torch.", 0) == 0 ? dtype.substr(6) : dtype;
  bool known = dtype.empty();
  for (const char* name : kTorchDtypes) known = known || bare == name;
  if (!known) return top.bad(dtype_key, "is \"" + dtype.substr(0, 40) + "\", not a torch dtype (float32, bfloat16, float16, ...)");
  cfg.dtype = dtype;

  *out = std::move(cfg);
  return Status::Ok();
}

Status parse_generation_config(std::string_view json_text, const std::string& file, GenerationConfig* out) {
  *out = GenerationConfig{};
  json::Value root;
  XLAM_TRY(parse_json_object(json_text, file, &root));
  Fields top(root, file);
  GenerationConfig g;
  XLAM_TRY(top.token_id("bos_token_id", -1, &g.bos_token_id));
  XLAM_TRY(top.token_ids("eos_token_id", {}, &g.eos_token_ids));
  *out = std::move(g);
  return Status::Ok();
}

RopeSpec rope_spec_of(const ModelConfig& c) {
  RopeSpec r;
  switch (c.rope.type) {
    case RopeType::kDefault: r.kind = RopeKind::kDefault; break;
    case RopeType::kLinear: r.kind = RopeKind::kLinear; break;
    case RopeType::kLlama3: r.kind = RopeKind::kLlama3; break;
    case RopeType::kYarn: r.kind = RopeKind::kYarn; break;
  }
  r.theta = c.rope_theta;
  r.head_dim = c.head_dim;
  r.max_position_embeddings = c.max_position_embeddings;
  r.factor = c.rope.factor;
  r.low_freq_factor = c.rope.low_freq_factor;
  r.high_freq_factor = c.rope.high_freq_factor;
  r.original_max_position_embeddings = c.rope.original_max_position_embeddings;
  r.beta_fast = c.rope.beta_fast;
  r.beta_slow = c.rope.beta_slow;
  r.mscale = c.rope.mscale;
  r.mscale_all_dim = c.rope.mscale_all_dim;
  r.attention_factor = c.rope.attention_factor;  // resolved by the config parser
  r.truncate = c.rope.truncate;
  return r;
}

}  // namespace xlam
