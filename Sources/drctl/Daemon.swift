import ArgumentParser
import DRCore
import Foundation
import Scheduler

#if canImport(Glibc)
import Glibc
#endif

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run scheduled backups in the foreground until stopped.",
        discussion: """
            Runs what is due, then sleeps until the next fire time over all sources. SIGHUP re-reads \
            the config; SIGTERM or SIGINT lets the current run finish, then exits 0. Uses the same \
            lock as `drctl run --due`, so both can be installed at once.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let control = DaemonControl()
        // A supervisor may start us with these blocked (the mask is inherited); they must arrive.
        var mask = sigset_t()
        sigemptyset(&mask)
        for signalNumber in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
        var sources: [any DispatchSourceSignal] = []
        for (signalNumber, stop) in [(SIGTERM, true), (SIGINT, true), (SIGHUP, false)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop ? control.requestStop() : control.requestReload() }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }
        let global = self.global
        let logger = global.makeLogger()
        try Daemon(open: { try global.openWorkspace() }, control: control, logger: logger).run()
    }
}
