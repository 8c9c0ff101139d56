import Foundation
import PropertyBased

/// Picks one of `items` (shrinking towards the first).
func oneOf<T: Sendable>(_ items: [T]) -> Generator<T, Shrink.Integer<Int>> {
    Gen.int(in: 0...(items.count - 1)).map { items[$0] }
}

/// Runs blocking work (a child process) on its own thread, off the 2-thread cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
