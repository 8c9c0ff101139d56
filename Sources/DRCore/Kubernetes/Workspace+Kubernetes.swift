extension Workspace {
    /// A client for the configured cluster: `cluster:` in the config, else `KUBECONFIG`,
    /// else `~/.kube/config`, else the in-cluster service account.
    public func kubeClient(context: String? = nil) throws -> KubeClient {
        let settings = KubeConnectionSettings(
            kubeconfigPath: config.cluster?.kubeconfig, context: context ?? config.cluster?.context)
        let endpoint = try KubeEndpoint.resolve(settings, environment: environment, logger: logger)
        return try KubeClient(endpoint: endpoint, logger: logger)
    }
}
