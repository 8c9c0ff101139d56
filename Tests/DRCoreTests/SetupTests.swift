import DRCore
import Foundation
import Testing
import TestSupport

@Suite("drctl init")
struct SetupTests {
    @Test("init writes a loadable, encrypting config and never overwrites it")
    func initialize() throws {
        try withTemporaryDirectory { dir in
            let result = try Setup.initialize(directory: dir, logger: testLogger)
            let config = try DRConfig.load(path: result.config, environment: Environment.current.variables)
            #expect(config.encryption?.recipients == [result.recipient].compactMap { $0 })
            #expect(config.encryption?.identity == result.identity)
            #expect(config.catalog == "\(dir)/catalog.db")
            #expect(config.sources.isEmpty)
            let again = try #require(throws: DRError.self) { try Setup.initialize(directory: dir, logger: testLogger) }
            #expect(again.code == .refused)
        }
    }

    @Test("re-running an interrupted init reuses the existing key instead of failing or replacing it")
    func interruptedInit() throws {
        try withTemporaryDirectory { dir in
            let first = try Setup.initialize(directory: dir, logger: testLogger)
            let key = try String(contentsOfFile: "\(dir)/keys/identity.txt", encoding: .utf8)
            try FileManager.default.removeItem(atPath: first.config)
            let second = try Setup.initialize(directory: dir, logger: testLogger)
            #expect(second.recipient == first.recipient)
            #expect(try String(contentsOfFile: "\(dir)/keys/identity.txt", encoding: .utf8) == key)
        }
    }

    @Test("--no-encryption writes a config without recipients")
    func plaintext() throws {
        try withTemporaryDirectory { dir in
            let result = try Setup.initialize(directory: dir, encrypt: false, logger: testLogger)
            #expect(result.identity == nil)
            let config = try DRConfig.load(path: result.config, environment: Environment.current.variables)
            #expect(config.encryption == nil)
        }
    }
}
