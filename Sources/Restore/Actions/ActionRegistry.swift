/// The built-in actions `drctl` blocks may name, by `action:` name.
public enum ActionRegistry {
    /// Every built-in action type.
    public static let all: [any RunbookAction.Type] = [
        GitRestoreBundleAction.self,
        GitVerifyAction.self,
        K8sApplyAction.self,
        K8sCreateNamespaceAction.self,
        K8sRolloutRestartAction.self,
        K8sWaitAction.self,
        ArgoPauseAutosyncAction.self,
        ArgoResumeAutosyncAction.self,
        ArgoSyncAction.self,
        ArgoWaitAction.self,
        SecretsRestoreAction.self,
        ArgoStateRestoreAction.self,
        PVCRestoreAction.self,
        ManualAction.self,
    ]

    /// The action type named `name`, or nil.
    public static func type(named name: String) -> (any RunbookAction.Type)? {
        all.first { $0.name == name }
    }
}
