import ArgumentParser
import DRCore
import Foundation
import Logging
import Scheduler

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file (default: $DRCTL_CONFIG, ./drctl.yaml, then ~/.config/drctl/drctl.yaml).", valueName: "file"))
    var config: String?

    @Flag(name: .shortAndLong, help: "Log more (-v info, -vv debug).")
    var verbose: Int

    @Flag(name: .shortAndLong, help: "Log errors only.")
    var quiet = false

    @Flag(name: .long, help: "Use the age identity file even if other users can read it or anyone but its owner can change it.")
    var insecurePermissions = false

    /// A logger writing to standard error at the requested level.
    func makeLogger() -> Logger {
        let level: Logger.Level = quiet ? .error : verbose >= 2 ? .debug : verbose == 1 ? .info : .warning
        var logger = Logger(label: "drctl") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        return logger
    }

    /// The config this invocation uses, found and parsed.
    func loadConfig() throws -> DRConfig {
        let environment = Environment.current
        let path = try ConfigLocator.locate(
            explicit: config, environment: environment.variables,
            currentDirectory: FileManager.default.currentDirectoryPath)
        let config = try DRConfig.load(path: path, environment: environment.variables)
        try ScheduleValidation.validate(config)
        return config
    }

    /// The workspace (catalog, repository, keys) of the config.
    func openWorkspace() throws -> Workspace {
        try Workspace.open(config: loadConfig(), environment: .current, logger: makeLogger(),
                           insecurePermissions: insecurePermissions)
    }
}
