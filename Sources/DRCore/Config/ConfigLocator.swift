internal import Foundation

/// Finds the configuration file to use.
public enum ConfigLocator {
    /// Returns the absolute path of the configuration file, searching in order:
    /// 1. `explicit` (the `--config` option),
    /// 2. `DRCTL_CONFIG` from `environment`,
    /// 3. `<currentDirectory>/drctl.yaml`,
    /// 4. `$XDG_CONFIG_HOME/drctl/drctl.yaml`, where `XDG_CONFIG_HOME` defaults to `$HOME/.config`.
    ///
    /// An explicit or `DRCTL_CONFIG` path that does not exist is an error; the search does not
    /// fall through to the other places.
    /// - Throws: ``DRError`` with code `.notFound` listing every place searched.
    public static func locate(explicit: String?, environment: [String: String], currentDirectory: String) throws -> String {
        let cwd = ConfigPaths.standardize(currentDirectory.hasPrefix("/") ? currentDirectory
            : FileManager.default.currentDirectoryPath + "/" + currentDirectory)
        func resolve(_ path: String) throws -> String {
            do {
                return try ConfigPaths.resolve(path, relativeTo: cwd, environment: environment)
            } catch {
                switch error {
                case .noHome: throw DRError(.config, "cannot expand `~` in \(path): HOME is not set")
                case .userHome(let prefix): throw DRError(.config, "`\(prefix)` paths are not supported: \(path)")
                }
            }
        }
        func requireFile(_ path: String, origin: String) throws -> String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw DRError(.notFound, "configuration file \(path) (from \(origin)) does not exist",
                              hint: "check the path, or run `drctl init --config \(path)` to create it")
            }
            if isDirectory.boolValue {
                throw DRError(.config, "configuration path \(path) (from \(origin)) is a directory, expected a YAML file")
            }
            return path
        }

        if let explicit, !explicit.isEmpty {
            return try requireFile(try resolve(explicit), origin: "--config")
        }
        if let variable = environment["DRCTL_CONFIG"], !variable.isEmpty {
            return try requireFile(try resolve(variable), origin: "DRCTL_CONFIG")
        }

        var searched: [String] = []
        searched.append(ConfigPaths.standardize(cwd + "/drctl.yaml"))
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            searched.append(ConfigPaths.standardize(xdg + "/drctl/drctl.yaml"))
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            searched.append(ConfigPaths.standardize(home + "/.config/drctl/drctl.yaml"))
        }
        for candidate in searched {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        let list = searched.map { "\n  - \($0)" }.joined()
        throw DRError(.notFound,
                      "no configuration file found (--config and DRCTL_CONFIG are not set); searched:\(list)",
                      hint: "run `drctl init` to create one, or pass --config PATH")
    }
}
