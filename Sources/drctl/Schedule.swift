import ArgumentParser

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Inspect cron schedules.",
        subcommands: [ScheduleNext.self])
}
