// swift-tools-version:6.0
// libFuzzer harnesses for drctl's parsers. Not part of the drctl package: build and run them
// with `scripts/fuzz TARGET [SECONDS]` (docs/RELIABILITY.md, "Fuzzing").
import Foundation
import PackageDescription

// The drctl package is the folder above; its package identity is that folder's name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let drctl = root.lastPathComponent.lowercased()

let package = Package(
    name: "drctl-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(name: "FuzzConfig", dependencies: [.product(name: "DRCore", package: drctl)]),
        .executableTarget(name: "FuzzRunbook", dependencies: [.product(name: "Restore", package: drctl)]),
        .executableTarget(name: "FuzzArchive", dependencies: [
            .product(name: "Snapshots", package: drctl), .product(name: "DRCore", package: drctl),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
