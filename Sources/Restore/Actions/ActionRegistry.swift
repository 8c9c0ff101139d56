/// The built-in actions `drctl` blocks may name, by `action:` name.
public enum ActionRegistry {
    /// Every built-in action type.
    public static let all: [any RunbookAction.Type] = []

    /// The action type named `name`, or nil.
    public static func type(named name: String) -> (any RunbookAction.Type)? {
        all.first { $0.name == name }
    }
}
