#include "backend-registry.h"

#include <mutex>
#include <utility>

namespace xlam {

namespace {
struct Entry {
  std::string name;
  BackendFactory factory;
};
std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
}  // namespace

void register_backend(const std::string& name, BackendFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (Entry& e : registry())
    if (e.name == name) {
      e.factory = std::move(factory);
      return;
    }
  registry().push_back({name, std::move(factory)});
}

Status create_backend(const std::string& name, const BackendOptions& options, std::unique_ptr<Backend>* out) {
  BackendFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const Entry& e : registry())
      if (e.name == name) factory = e.factory;
  }
  if (!factory) {
    std::string known;
    for (const std::string& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
    return Status::Error(Code::kInvalidArgument, "unknown backend '" + name + "' (available: " + known + ")");
  }
  return factory(options, out);
}

std::vector<std::string> backend_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const Entry& e : registry()) names.push_back(e.name);
  return names;
}

}  // namespace xlam
