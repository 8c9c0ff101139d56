internal import CCurl
import Foundation

/// libcurl easy handles kept between requests so connections (and TLS sessions) are
/// reused; shared by the Kubernetes and S3 transports. Thread-safe.
final class CurlHandlePool: @unchecked Sendable {
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    private let maxIdle: Int

    init(maxIdle: Int = 8) {
        _ = Self.globalInit
        self.maxIdle = maxIdle
    }

    deinit {
        for handle in idle { curl_easy_cleanup(handle) }
    }

    /// An idle handle (reset to defaults) or a new one.
    func checkout() throws -> UnsafeMutableRawPointer {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        if let reused {
            curl_easy_reset(reused)
            return reused
        }
        guard let handle = curl_easy_init() else { throw DRError(.io, "libcurl could not create a handle") }
        return handle
    }

    /// Returns a handle for reuse (or frees it when enough are idle).
    func checkin(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        if idle.count < maxIdle {
            idle.append(handle)
            lock.unlock()
        } else {
            lock.unlock()
            curl_easy_cleanup(handle)
        }
    }
}
