// Interns task names (comm) to small ids on the worker thread; the recording's comm
// column is a dictionary, so each name crosses to JavaScript once.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

class CommTable {
 public:
  // The id of comm (at most `size` bytes, NUL-padded); a name never seen before is
  // appended to newComms, whose order is id order.
  int32_t Intern(const char* comm, size_t size, std::vector<std::string>* newComms) {
    // Consecutive events mostly come from the same task: skip the hash lookup then.
    if (lastId_ >= 0 && memcmp(comm, last_, size) == 0) return lastId_;
    std::string name(comm, strnlen(comm, size));
    auto [it, inserted] = ids_.try_emplace(name, static_cast<int32_t>(ids_.size()));
    if (inserted) newComms->push_back(name);
    memcpy(last_, comm, std::min(size, sizeof(last_)));
    lastId_ = it->second;
    return lastId_;
  }

 private:
  std::unordered_map<std::string, int32_t> ids_;
  char last_[16] = {};
  int32_t lastId_ = -1;
};
