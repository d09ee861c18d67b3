#include "thread_pool.h"

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace ew::rt {

namespace {
thread_local bool t_insideJob = false;

/// How long a caller waiting for a worker's last chunk spins before it sleeps.
constexpr auto kSpinBudget = std::chrono::microseconds(500);

/// PAUSE iterations an idle worker spins before it sleeps.
constexpr int kWorkerSpins = 20000;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
} // namespace

ThreadPool::InlineScope::InlineScope(bool active) : m_saved(t_insideJob) {
    if (active) t_insideJob = true;
}
ThreadPool::InlineScope::~InlineScope() { t_insideJob = m_saved; }

int ThreadPool::physicalCores() {
    unsigned logical = std::thread::hardware_concurrency();
    if (logical == 0) return 1;
    std::set<std::pair<std::string, std::string>> cores;
    for (unsigned c = 0; c < logical; ++c) {
        std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
        std::ifstream core(base + "core_id"), pkg(base + "physical_package_id");
        std::string coreId, pkgId;
        if (!(core >> coreId) || !(pkg >> pkgId)) return static_cast<int>(logical);
        cores.emplace(pkgId, coreId);
    }
    return cores.empty() ? static_cast<int>(logical) : static_cast<int>(cores.size());
}

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = physicalCores();
    for (int i = 1; i < threads; ++i) m_workers.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_workers) t.join();
}

void ThreadPool::drain() {
    bool saved = t_insideJob;
    t_insideJob = true;
    for (;;) {
        int64_t c = m_next.fetch_add(1, std::memory_order_relaxed);
        if (c >= m_chunks) break;
        int64_t b = m_begin + c * m_chunk;
        int64_t e = b + m_chunk < m_end ? b + m_chunk : m_end;
        m_fn(m_ctx, b, e);
    }
    t_insideJob = saved;
}

void ThreadPool::workerLoop() {
    uint64_t seen = 0;
    for (;;) {
        // Spin briefly before sleeping: kernels issue many short parallelFors back to back, and a
        // futex wake-up per call costs more than the work (tens of microseconds on a VM). Longer
        // spinning measured slower on small models (the spinner competes with the caller).
        for (int spin = 0; spin < kWorkerSpins && m_publishedGeneration.load(std::memory_order_acquire) == seen; ++spin)
            cpuRelax();
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
        if (m_stop) return;
        seen = m_generation;
        if (!m_jobOpen) continue; // woke after the caller finished this job alone
        ++m_active;
        lock.unlock();
        drain();
        lock.lock();
        if (--m_active == 0) m_done.notify_one();
    }
}

void ThreadPool::run(int64_t begin, int64_t end, int64_t chunk, Trampoline fn, void* ctx) {
    int64_t chunks = (end - begin + chunk - 1) / chunk;
    if (m_workers.empty() || chunks == 1 || t_insideJob) {
        for (int64_t b = begin; b < end; b += chunk) fn(ctx, b, b + chunk < end ? b + chunk : end);
        return;
    }
    std::lock_guard call(m_callMutex);
    {
        std::lock_guard lock(m_mutex);
        m_begin = begin;
        m_end = end;
        m_chunk = chunk;
        m_chunks = chunks;
        m_fn = fn;
        m_ctx = ctx;
        m_next.store(0, std::memory_order_relaxed);
        m_jobOpen = true;
        ++m_generation;
        m_publishedGeneration.store(m_generation, std::memory_order_release);
    }
    m_wake.notify_all();
    drain();
    // Close the job so late workers do not join, then wait only for those that did: a worker
    // that is still asleep costs nothing. A worker that joined holds at most one chunk, so spin
    // for it first: sleeping on the condition variable would add a futex wake-up to every call.
    std::unique_lock lock(m_mutex);
    m_jobOpen = false;
    if (m_active.load(std::memory_order_acquire) == 0) return;
    lock.unlock();
    const auto deadline = std::chrono::steady_clock::now() + kSpinBudget;
    for (unsigned spin = 1; m_active.load(std::memory_order_acquire) != 0; ++spin) {
        cpuRelax();
        if ((spin & 255) == 0 && std::chrono::steady_clock::now() > deadline) break;
    }
    lock.lock();
    m_done.wait(lock, [&] { return m_active.load(std::memory_order_relaxed) == 0; });
}

} // namespace ew::rt
