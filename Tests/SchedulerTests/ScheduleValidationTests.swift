import DRCore
import Foundation
import Scheduler
import Testing
import TestSupport

@Suite("schedule validation")
struct ScheduleValidationTests {
    func config(_ sources: [SourceConfig]) -> DRConfig {
        DRConfig(file: "/etc/drctl/drctl.yaml", repositories: [], catalog: "/var/lib/drctl/catalog.db",
                 dataDir: "/var/lib/drctl", sources: sources)
    }

    func source(_ name: String, _ schedule: String?, line: Int, zone: String = "UTC") -> SourceConfig {
        var source = SourceConfig(name: name, schedule: schedule, line: line, spec: .gitBundle(GitBundleSourceConfig(repo: .path("/srv/\(name)"))))
        source.scheduling.timeZone = zone
        return source
    }

    @Test("good schedules pass; the first bad one reads FILE:LINE: sources[i].schedule: message")
    func messages() throws {
        try ScheduleValidation.validate(config([source("a", "0 */6 * * *", line: 7), source("b", nil, line: 10),
                                               source("c", "@daily", line: 12, zone: "Europe/Warsaw")]))
        do {
            try ScheduleValidation.validate(config([source("a", "0 3 * * *", line: 7), source("b", "0 3 31 2 *", line: 11),
                                                   source("c", "99 * * * *", line: 15)]))
            Issue.record("validated")
        } catch let error as DRError {
            #expect(error.code == .config)
            #expect(error.message.hasPrefix("/etc/drctl/drctl.yaml:11: sources[1].schedule: invalid day-of-month field `31`"), "\(error.message)")
        }
        do {
            try ScheduleValidation.validate(config([source("a", "0 3 * * *", line: 7, zone: "Mars/Olympus")]))
            Issue.record("validated")
        } catch let error as DRError {
            #expect(error.message.hasPrefix("/etc/drctl/drctl.yaml:7: sources[0].timezone: unknown time zone `Mars/Olympus`"), "\(error.message)")
        }
    }

    @Test("schedule(of:) reads the source's zone")
    func scheduleOfSource() throws {
        let parsed = try #require(try ScheduleValidation.schedule(of: source("a", "30 2 * * *", line: 1, zone: "America/New_York")))
        #expect(parsed.timeZone.identifier == "America/New_York")
        #expect(try ScheduleValidation.schedule(of: source("b", nil, line: 1)) == nil)
    }
}

@Suite("drctl schedule next")
struct ScheduleCLITests {
    @Test("prints the next fire times with the zone's offset, across a DST gap")
    func text() throws {
        let result = try runDrctl(["schedule", "next", "30 2 * * *", "--from", "2026-03-28T12:00:00Z", "--count", "3",
                                   "--timezone", "Europe/Warsaw"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n2026-03-31T02:30:00+02:00\n")
    }

    @Test("--from without an offset is read in --timezone; --json lists the times")
    func json() throws {
        let result = try runDrctl(["schedule", "next", "*/30 * * * *", "--from", "2026-10-25T01:45", "--count", "5",
                                   "--timezone", "Europe/Warsaw", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(object["expression"] as? String == "*/30 * * * *")
        #expect(object["timezone"] as? String == "Europe/Warsaw")
        #expect(object["from"] as? String == "2026-10-25T01:45:00+02:00")
        #expect(object["next"] as? [String] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                                               "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"])
    }

    @Test("UTC is the default zone; macros work")
    func defaults() throws {
        let result = try runDrctl(["schedule", "next", "@monthly", "--from", "2026-11-23T10:00:00Z", "--count", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "2026-12-01T00:00:00Z\n2027-01-01T00:00:00Z\n")
    }

    @Test("a bad expression exits 3 naming the field; a bad zone exits 3; a bad --from or --count is a usage error")
    func errors() throws {
        let bad = try runDrctl(["schedule", "next", "0 25 * * *"])
        #expect(bad.status == DRError.Code.config.exitCode)
        #expect(bad.stderr.contains("invalid hour field `25`"), "\(bad.stderr)")
        let reboot = try runDrctl(["schedule", "next", "@reboot"])
        #expect(reboot.status == DRError.Code.config.exitCode)
        #expect(reboot.stderr.contains("@reboot"))
        let zone = try runDrctl(["schedule", "next", "@daily", "--timezone", "Mars/Olympus"])
        #expect(zone.status == DRError.Code.config.exitCode)
        #expect(zone.stderr.contains("Mars/Olympus"))
        #expect(try runDrctl(["schedule", "next", "@daily", "--from", "yesterday"]).status == 64)
        #expect(try runDrctl(["schedule", "next", "@daily", "--count", "0"]).status == 64)
    }

    @Test("every command rejects a config whose schedule does not parse, naming file, line and field")
    func configRejected() throws {
        try withTemporaryDirectory { dir in
            let initResult = try runDrctl(["init", "\(dir)/setup"])
            #expect(initResult.succeeded, "\(initResult.stderr)")
            let config = "\(dir)/setup/drctl.yaml"
            let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
                of: "sources: []", with: "sources:\n  - name: gitops\n    kind: git-bundle\n    repo: /srv/gitops\n    schedule: \"0 3 * * 8\"\n")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let result = try runDrctl(["snapshots", "--config", config])
            #expect(result.status == DRError.Code.config.exitCode, "\(result.stderr)")
            #expect(result.stderr.contains("drctl.yaml:"), "\(result.stderr)")
            #expect(result.stderr.contains(": sources[0].schedule: invalid day-of-week field `8`"), "\(result.stderr)")
        }
    }
}
