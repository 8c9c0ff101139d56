/// Fixture CRDs for ArgoCD's Application, AppProject and ApplicationSet (schemas left open).
public enum ArgoCRDs {
    /// A YAML stream of the three CRDs, ready for `FakeKubeServer.seed(yaml:)` or `kubectl apply`.
    public static let yaml = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: applications.argoproj.io
      labels:
        app.kubernetes.io/name: applications.argoproj.io
        app.kubernetes.io/part-of: argocd
    spec:
      group: argoproj.io
      names:
        kind: Application
        listKind: ApplicationList
        plural: applications
        singular: application
        shortNames: [app, apps]
      scope: Namespaced
      versions:
      - name: v1alpha1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    ---
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: appprojects.argoproj.io
      labels:
        app.kubernetes.io/name: appprojects.argoproj.io
        app.kubernetes.io/part-of: argocd
    spec:
      group: argoproj.io
      names:
        kind: AppProject
        listKind: AppProjectList
        plural: appprojects
        singular: appproject
        shortNames: [appproj, appprojs]
      scope: Namespaced
      versions:
      - name: v1alpha1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    ---
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: applicationsets.argoproj.io
      labels:
        app.kubernetes.io/name: applicationsets.argoproj.io
        app.kubernetes.io/part-of: argocd
    spec:
      group: argoproj.io
      names:
        kind: ApplicationSet
        listKind: ApplicationSetList
        plural: applicationsets
        singular: applicationset
        shortNames: [appset, appsets]
      scope: Namespaced
      versions:
      - name: v1alpha1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            x-kubernetes-preserve-unknown-fields: true
        subresources:
          status: {}

    """
}
