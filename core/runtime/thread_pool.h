#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ew::rt {

/// A fixed set of worker threads that run one parallelFor at a time, the calling thread taking
/// part. Work is cut into chunks whose boundaries depend only on the range and the chunk size,
/// never on the thread count or on scheduling, so a kernel that writes each output from one chunk
/// gives the same bytes on 1 or N threads. Nested calls (from inside a chunk) run inline.
/// parallelFor never allocates (the body is passed as a pointer + trampoline, not std::function).
class ThreadPool {
public:
    /// `threads` counts the caller; <= 0 means physicalCores().
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threads() const { return static_cast<int>(m_workers.size()) + 1; }

    /// Calls f(chunkBegin, chunkEnd) for [begin, end) cut into pieces of `chunk` elements (the
    /// last one shorter), spread over the pool; returns when every chunk has run.
    template <typename F>
    void parallelFor(int64_t begin, int64_t end, int64_t chunk, F&& f) {
        if (end <= begin) return;
        if (chunk < 1) chunk = 1;
        auto tramp = [](void* ctx, int64_t b, int64_t e) { (*static_cast<std::remove_reference_t<F>*>(ctx))(b, e); };
        run(begin, end, chunk, tramp, const_cast<void*>(static_cast<const void*>(&f)));
    }

    /// Physical cores of this machine (SMT siblings counted once); at least 1.
    static int physicalCores();

    /// While alive and active, every parallelFor on this thread runs inline, as nested calls do:
    /// for kernels whose whole run is too small to pay for handing chunks to another core.
    /// Chunk boundaries stay the same, so results do not change.
    class InlineScope {
    public:
        explicit InlineScope(bool active = true);
        ~InlineScope();
        InlineScope(const InlineScope&) = delete;
        InlineScope& operator=(const InlineScope&) = delete;

    private:
        bool m_saved;
    };

private:
    using Trampoline = void (*)(void*, int64_t, int64_t);
    void run(int64_t begin, int64_t end, int64_t chunk, Trampoline fn, void* ctx);
    void workerLoop();
    void drain();

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::mutex m_callMutex; ///< one parallelFor at a time from outside
    uint64_t m_generation = 0;
    std::atomic<uint64_t> m_publishedGeneration{0}; ///< m_generation, readable without the lock (spinning)
    bool m_stop = false;
    bool m_jobOpen = false; ///< workers may still join the current job
    std::atomic<int> m_active{0}; ///< workers inside the current job (changed under m_mutex)

    // The current job.
    int64_t m_begin = 0, m_end = 0, m_chunk = 1, m_chunks = 0;
    Trampoline m_fn = nullptr;
    void* m_ctx = nullptr;
    std::atomic<int64_t> m_next{0};
};

} // namespace ew::rt
