import DRCore

extension JSONValue {
    /// Sets the value at a path of object keys, creating objects on the way.
    subscript(path first: String, _ rest: String...) -> JSONValue? {
        get { self[path: [first] + rest] }
        set { self.setValue(newValue, at: [first] + rest) }
    }

    mutating func setValue(_ value: JSONValue?, at path: [String]) {
        guard let first = path.first else { return }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[first] = value
        } else {
            var child = members[first] ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            child.setValue(value, at: Array(path.dropFirst()))
            members[first] = child
        }
        self = .object(members)
    }
}
