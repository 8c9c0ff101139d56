import Foundation

/// Secrets as `kubectl get secrets -A -o yaml` prints them, with distinctive values so a
/// test can search everything drctl wrote for them (plain and base64).
public enum SecretFixtures {
    /// Plain values that must never appear outside encrypted data.
    public static let values = ["wp-db-pass-Q7x!93kd", "argocd-admin-Zm91cg-pass", "tls-key-material-4f2a9c"]

    /// The values as they appear in a Secret's `data`.
    public static var base64Values: [String] { values.map { Data($0.utf8).base64EncodedString() } }

    public static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// A `kubectl get secrets -A -o yaml` document: three app Secrets, a service-account
    /// token and a Helm release, with server-owned fields set.
    public static func kubectlList(dbPassword: String = values[0]) -> String {
        """
        apiVersion: v1
        items:
        - apiVersion: v1
          data:
            password: \(b64(dbPassword))
            username: \(b64("wordpress"))
          kind: Secret
          metadata:
            creationTimestamp: "2026-11-01T10:00:00Z"
            labels:
              app: wordpress
            managedFields:
            - apiVersion: v1
              fieldsType: FieldsV1
              manager: kubectl-client-side-apply
              operation: Update
            name: wordpress-db
            namespace: wordpress
            ownerReferences:
            - apiVersion: apps/v1
              kind: Deployment
              name: wordpress
              uid: 0b6c7f1e-0000-4000-8000-000000000001
            resourceVersion: "1201"
            uid: 5e0e2d55-0000-4000-8000-000000000002
          type: Opaque
        - apiVersion: v1
          data:
            admin.password: \(b64(values[1]))
          kind: Secret
          metadata:
            labels:
              app.kubernetes.io/part-of: argocd
            name: argocd-initial-admin-secret
            namespace: argocd
            resourceVersion: "88"
            uid: 5e0e2d55-0000-4000-8000-000000000003
          type: Opaque
        - apiVersion: v1
          data:
            tls.crt: \(b64("-----BEGIN CERTIFICATE-----"))
            tls.key: \(b64(values[2]))
          kind: Secret
          metadata:
            name: plugin-deployer-tls
            namespace: gitops-system
            resourceVersion: "90"
          type: kubernetes.io/tls
        - apiVersion: v1
          data:
            token: \(b64("service-account-token-not-exported"))
          kind: Secret
          metadata:
            annotations:
              kubernetes.io/service-account.name: default
            name: default-token-abcde
            namespace: wordpress
          type: kubernetes.io/service-account-token
        - apiVersion: v1
          data:
            release: \(b64("helm-release-blob"))
          kind: Secret
          metadata:
            labels:
              owner: helm
            name: sh.helm.release.v1.mariadb.v1
            namespace: wordpress
          type: helm.sh/release.v1
        kind: List
        metadata:
          resourceVersion: ""
        """
    }
}
