import Foundation
import PropertyBased

/// Picks one of `items` (shrinking towards the first).
func oneOf<T: Sendable>(_ items: [T]) -> Generator<T, Shrink.Integer<Int>> {
    Gen.int(in: 0...(items.count - 1)).map { items[$0] }
}

