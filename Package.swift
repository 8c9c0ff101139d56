// swift-tools-version:6.0
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "drctl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drctl", targets: ["drctl"]),
        .library(name: "DRCore", targets: ["DRCore"]),
        .library(name: "Snapshots", targets: ["Snapshots"]),
        // For the libFuzzer harness in fuzz/ (a separate package; scripts/fuzz).
        .library(name: "Restore", targets: ["Restore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Test-only: the in-process fake Kubernetes API server (Tests/FakeKube).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // Test-only: property-based tests (Tests/PropertyTests).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // C shims: module maps plus `static inline` wrappers only, no logic.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CDRSystem"),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // BLAKE3 (portable, AVX2, AVX-512), the C code behind DRCore's BLAKE3. -O3 in every
        // configuration: at SwiftPM's debug -O0 it hashes at tens of MB/s.
        .target(name: "CBlake3", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "DRCore",
            dependencies: [
                "CDRSystem", "CCurl", "CBlake3",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Snapshots",
            dependencies: [
                "DRCore", "CArchive", "CZstd", "CDRSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Restore",
            dependencies: [
                "DRCore", "Snapshots",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Scheduler",
            dependencies: [
                "DRCore", "Snapshots", "Restore", "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "drctl",
            dependencies: [
                "DRCore", "Snapshots", "Restore", "Scheduler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "TestSupport",
            dependencies: ["DRCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: upcoming
        ),
        .target(
            name: "FakeKube",
            dependencies: [
                "DRCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/FakeKube",
            swiftSettings: upcoming
        ),
        .testTarget(name: "DRCoreTests", dependencies: ["DRCore", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "Restore", "DRCore", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "RestoreTests", dependencies: ["Restore", "DRCore", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "KubernetesTests", dependencies: ["DRCore", "Snapshots", "Restore", "TestSupport", "FakeKube"],
            swiftSettings: upcoming),
        .testTarget(
            name: "FakeKubeTests",
            dependencies: [
                "FakeKube", "DRCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "ActionsTests", dependencies: ["Restore", "Snapshots", "Scheduler", "DRCore", "TestSupport", "FakeKube"],
            swiftSettings: upcoming),
        .testTarget(
            name: "SchedulerTests", dependencies: ["Scheduler", "DRCore", "TestSupport"], exclude: ["gen_vectors.py"],
            swiftSettings: upcoming),
        .testTarget(
            name: "PruneTests", dependencies: ["Scheduler", "Snapshots", "Restore", "DRCore", "TestSupport"],
            swiftSettings: upcoming),
        .testTarget(
            name: "RunTests", dependencies: ["Scheduler", "Snapshots", "Restore", "DRCore", "TestSupport"],
            swiftSettings: upcoming),
        .testTarget(
            name: "DeployTests", dependencies: ["DRCore", "Scheduler", "TestSupport", "FakeKube"],
            swiftSettings: upcoming),
        .testTarget(name: "ReportTests", dependencies: ["Restore", "DRCore", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "PropertyTests",
            dependencies: [
                "DRCore", "Snapshots", "Restore", "Scheduler", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: upcoming),
        .testTarget(name: "drctlTests", dependencies: ["drctl", "DRCore", "TestSupport"], swiftSettings: upcoming),
        // kill -9 at every write phase and at random moments, through the real binary (docs/RELIABILITY.md).
        .testTarget(name: "CrashTests", dependencies: ["drctl", "DRCore", "TestSupport"], swiftSettings: upcoming),
        // S3 backend against moto_server (signature checking on) and the aws CLI; SigV4 vectors in Fixtures/.
        .testTarget(
            name: "S3Tests", dependencies: ["drctl", "Snapshots", "DRCore", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: upcoming),
    ],
    swiftLanguageModes: [.v6]
)
