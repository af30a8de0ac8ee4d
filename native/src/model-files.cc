#include "model-files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "json.h"

namespace xlam {

namespace {

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// realpath() into a std::string; returns errno (0 on success).
int real_path(const std::string& path, std::string* out) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) return errno ? errno : ENOENT;
  *out = r;
  ::free(r);
  return 0;
}

// A shard name from an index must be a plain file name: "<something>.safetensors", no '/',
// no '\\', no "..", no NUL.
bool plain_shard_name(const std::string& name) {
  static const char kExt[] = ".safetensors";
  if (name.size() <= sizeof(kExt) - 1 || !ends_with(name, kExt)) return false;
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos) return false;
  if (name.find("..") != std::string::npos) return false;
  if (name.find('\0') != std::string::npos) return false;
  return true;
}

// Resolve a shard file name inside the model folder. Missing -> missing_code; resolving outside
// the folder (symlink) -> BAD_SHARD_PATH.
Status resolve_shard(const ModelFiles& mf, const std::string& name, Code missing_code, std::string* resolved) {
  const std::string path = join(mf.dir, name);
  int err = real_path(path, resolved);
  if (err == ENOENT || err == ENOTDIR)
    return Status::Error(missing_code, "shard file " + name + " does not exist in " + mf.dir, path);
  if (err != 0) return Status::Error(Code::kIo, "cannot resolve " + path + ": " + std::strerror(err), path);
  const std::string prefix = mf.real_dir == "/" ? "/" : mf.real_dir + "/";
  if (resolved->compare(0, prefix.size(), prefix) != 0 || resolved->size() == prefix.size())
    return Status::Error(Code::kBadShardPath, "shard " + name + " resolves to " + *resolved + ", outside " + mf.real_dir,
                         path);
  return Status::Ok();
}

// Map every tensor of every shard; a name held by two shards is BAD_INDEX.
Status check_unique_tensors(const ModelFiles& mf) {
  std::unordered_map<std::string, const SafetensorsFile*> owner;
  for (const auto& shard : mf.shards) {
    for (const TensorEntry& e : shard->tensors()) {
      auto ins = owner.emplace(e.name, shard.get());
      if (!ins.second)
        return Status::Error(Code::kBadIndex,
                             "tensor \"" + e.name + "\" is in two shards: " + ins.first->second->path() + " and " +
                                 shard->path(),
                             shard->path(), e.name);
    }
  }
  return Status::Ok();
}

Status open_shard(const std::string& path, std::unique_ptr<SafetensorsFile>* out) {
  auto f = std::make_unique<SafetensorsFile>();
  XLAM_TRY(f->open(path));
  *out = std::move(f);
  return Status::Ok();
}

void add_all_tensors(ModelFiles* mf) {
  for (const auto& shard : mf->shards)
    for (const TensorEntry& e : shard->tensors())
      mf->tensors[e.name] = TensorRef{shard.get(), &e, shard->tensor_data(e)};
}

Status load_index(const std::string& index_path, ModelFiles* mf) {
  const std::string index_name = "model.safetensors.index.json";
  std::string text;
  XLAM_TRY(read_file_bounded(index_path, kMaxIndexFileBytes, Code::kBadIndex, &text));
  json::Value root;
  json::ParseError perr;
  json::ParseOptions opts;
  opts.reject_duplicate_keys = true;
  if (!json::parse(text, &root, &perr, opts)) {
    if (perr.kind == json::ParseError::Kind::kDuplicateKey)
      return Status::Error(Code::kBadIndex, index_name + ": key \"" + perr.key + "\" appears twice", index_path,
                           perr.key);
    return Status::Error(Code::kBadIndex, index_name + ": invalid JSON: " + perr.message, index_path);
  }
  text.clear();
  text.shrink_to_fit();
  const json::Value* wm = root.find("weight_map");
  if (!root.is_object() || !wm || !wm->is_object())
    return Status::Error(Code::kBadIndex, index_name + ": no \"weight_map\" object", index_path);

  // Validate every shard name first, then resolve and open each distinct file once.
  std::vector<std::string> shard_names;                    // distinct, first-appearance order
  std::unordered_map<std::string, size_t> name_to_shard;   // shard name -> index in mf->shards
  for (const json::Member& m : wm->members) {
    if (!m.value.is_string())
      return Status::Error(Code::kBadIndex, index_name + ": weight_map value for \"" + m.key + "\" is not a string",
                           index_path, m.key);
    const std::string& shard = m.value.text;
    if (!plain_shard_name(shard))
      return Status::Error(Code::kBadShardPath,
                           index_name + ": shard \"" + shard + "\" for tensor \"" + m.key +
                               "\" is not a plain *.safetensors file name in the model folder",
                           index_path, m.key);
    if (name_to_shard.emplace(shard, 0).second) shard_names.push_back(shard);
  }
  std::unordered_map<std::string, size_t> real_to_shard;
  for (const std::string& name : shard_names) {
    std::string resolved;
    Status st = resolve_shard(*mf, name, Code::kBadIndex, &resolved);
    if (!st.ok()) {
      if (st.code == Code::kBadIndex) st.message = index_name + ": " + st.message;
      return st;
    }
    auto it = real_to_shard.find(resolved);
    if (it != real_to_shard.end()) {
      name_to_shard[name] = it->second;
      continue;
    }
    std::unique_ptr<SafetensorsFile> f;
    XLAM_TRY(open_shard(resolved, &f));
    real_to_shard.emplace(resolved, mf->shards.size());
    name_to_shard[name] = mf->shards.size();
    mf->shards.push_back(std::move(f));
  }
  XLAM_TRY(check_unique_tensors(*mf));

  mf->tensors.reserve(wm->members.size());
  for (const json::Member& m : wm->members) {
    const SafetensorsFile* f = mf->shards[name_to_shard[m.value.text]].get();
    const TensorEntry* e = f->find(m.key);
    if (!e)
      return Status::Error(Code::kBadIndex,
                           index_name + ": tensor \"" + m.key + "\" is mapped to " + m.value.text + ", which does not hold it",
                           f->path(), m.key);
    mf->tensors[m.key] = TensorRef{f, e, f->tensor_data(*e)};
  }
  return Status::Ok();
}

Status load_folder_scan(ModelFiles* mf) {
  DIR* d = ::opendir(mf->dir.c_str());
  if (!d) {
    const int err = errno;
    return Status::Error(Code::kIo, "cannot list " + mf->dir + ": " + std::strerror(err), mf->dir);
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name.empty() || name[0] == '.') continue;  // hidden files, including macOS "._x" forks
    if (!plain_shard_name(name)) continue;
    if (!is_regular_file(join(mf->dir, name))) continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  if (names.empty())
    return Status::Error(Code::kModelNotFound,
                         "no weights in " + mf->dir +
                             " (expected model.safetensors.index.json, model.safetensors or *.safetensors)",
                         mf->dir);
  std::unordered_map<std::string, bool> seen;
  for (const std::string& name : names) {
    std::string resolved;
    XLAM_TRY(resolve_shard(*mf, name, Code::kModelNotFound, &resolved));
    if (!seen.emplace(resolved, true).second) continue;  // two links to one file
    std::unique_ptr<SafetensorsFile> f;
    XLAM_TRY(open_shard(resolved, &f));
    mf->shards.push_back(std::move(f));
  }
  XLAM_TRY(check_unique_tensors(*mf));
  add_all_tensors(mf);
  return Status::Ok();
}

}  // namespace

const TensorRef* ModelFiles::find_tensor(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

Status read_file_bounded(const std::string& path, uint64_t max_bytes, Code too_large_code, std::string* out) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::Error(Code::kModelNotFound, path + " does not exist", path);
    return Status::Error(Code::kIo, "cannot open " + path + ": " + std::strerror(err), path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Error(Code::kIo, path + " is not a readable regular file", path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::Error(too_large_code,
                         path + " is " + std::to_string(st.st_size) + " bytes, over the " + std::to_string(max_bytes) +
                             "-byte limit",
                         path);
  }
  std::string buf;
  buf.resize(static_cast<size_t>(st.st_size) + 1);  // +1 detects a file that grew
  size_t got = 0;
  for (;;) {
    if (got == buf.size()) {
      if (got > max_bytes) {
        ::close(fd);
        return Status::Error(too_large_code, path + " grew past the " + std::to_string(max_bytes) + "-byte limit", path);
      }
      buf.resize(std::min<size_t>(buf.size() * 2, static_cast<size_t>(max_bytes) + 1));
    }
    ssize_t n = ::read(fd, &buf[got], buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::Error(Code::kIo, "cannot read " + path + ": " + std::strerror(err), path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > max_bytes)
    return Status::Error(too_large_code, path + " grew past the " + std::to_string(max_bytes) + "-byte limit", path);
  buf.resize(got);
  *out = std::move(buf);
  return Status::Ok();
}

Status open_model_files(const std::string& dir, ModelFiles* out) {
  *out = ModelFiles{};
  ModelFiles mf;
  mf.dir = dir;
  struct stat st;
  if (dir.empty() || ::stat(dir.c_str(), &st) != 0)
    return Status::Error(Code::kModelNotFound, "model folder " + dir + " does not exist", dir);
  if (!S_ISDIR(st.st_mode)) return Status::Error(Code::kModelNotFound, dir + " is not a folder", dir);
  int err = real_path(dir, &mf.real_dir);
  if (err != 0) return Status::Error(Code::kIo, "cannot resolve " + dir + ": " + std::strerror(err), dir);

  const std::string config_path = join(dir, "config.json");
  std::string text;
  Status st_cfg = read_file_bounded(config_path, kMaxConfigFileBytes, Code::kBadConfig, &text);
  if (!st_cfg.ok()) {
    if (st_cfg.code == Code::kModelNotFound) st_cfg.message = "config.json not found in " + dir;
    return st_cfg;
  }
  XLAM_TRY(parse_model_config(text, config_path, &mf.config));

  const std::string gen_path = join(dir, "generation_config.json");
  Status st_gen = read_file_bounded(gen_path, kMaxConfigFileBytes, Code::kBadConfig, &text);
  if (st_gen.ok()) {
    XLAM_TRY(parse_generation_config(text, gen_path, &mf.generation));
    mf.has_generation_config = true;
  } else if (st_gen.code != Code::kModelNotFound) {
    return st_gen;
  }

  const std::string index_path = join(dir, "model.safetensors.index.json");
  const std::string single_path = join(dir, "model.safetensors");
  if (path_exists(index_path)) {
    XLAM_TRY(load_index(index_path, &mf));
  } else if (path_exists(single_path)) {
    std::string resolved;
    XLAM_TRY(resolve_shard(mf, "model.safetensors", Code::kModelNotFound, &resolved));
    std::unique_ptr<SafetensorsFile> f;
    XLAM_TRY(open_shard(resolved, &f));
    mf.shards.push_back(std::move(f));
    add_all_tensors(&mf);
  } else {
    XLAM_TRY(load_folder_scan(&mf));
  }
  *out = std::move(mf);
  return Status::Ok();
}

}  // namespace xlam
