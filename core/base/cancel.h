#pragma once

#include <atomic>
#include <memory>

namespace paramscope {

/// Shared cancel flag: the owner of a job sets it, the job checks it between steps.
using CancelToken = std::shared_ptr<std::atomic<bool>>;
inline CancelToken makeCancelToken()
{
    return std::make_shared<std::atomic<bool>>(false);
}

/// True when `token` is set (a null token never is).
inline bool isCancelled(const CancelToken& token)
{
    return token && token->load(std::memory_order_relaxed);
}

}  // namespace paramscope
