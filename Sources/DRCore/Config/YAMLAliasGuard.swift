internal import CYaml

/// Refuses YAML whose aliases would expand it out of proportion (a "billion laughs" document)
/// before anything composes or walks it.
///
/// Yams composes an alias as a shared copy of its anchored node, so composing is cheap; but
/// hashing a mapping key, walking the tree or converting it to ``JSONValue`` visits every
/// copy, which is exponential in the nesting of aliases. This check reads libyaml's event
/// stream once (linear time, memory proportional to the number of anchors) and counts the
/// nodes each alias stands for; the text is refused when aliases would add more than
/// ``maximumAliasExpansion`` nodes. Syntax errors are left to the composer, which reports them.
package enum YAMLAliasGuard {
    /// The most nodes aliases may add to a document stream.
    package static let maximumAliasExpansion = 100_000

    /// Aliases in a YAML text would expand it past ``maximumAliasExpansion`` nodes.
    package struct Violation: Error, Sendable, CustomStringConvertible {
        /// 1-based line of the alias that crossed the limit.
        package var line: Int
        /// What is wrong, without quoting the document.
        package var message: String

        package var description: String { "line \(line): \(message)" }
    }

    /// Throws ``Violation`` when the aliases of `text` expand past the limit.
    package static func check(_ text: String) throws(Violation) {
        // An alias is written `*name`; text without `*` has none (the common case: skip the scan).
        guard text.utf8.contains(UInt8(ascii: "*")) else { return }
        var copy = text
        let failure: Violation? = copy.withUTF8 { bytes in scan(bytes) }
        if let failure { throw failure }
    }

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Violation? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)

        // Expanded size of each open collection, with its anchor; sizes of finished anchors.
        var open: [(size: Int, anchor: String?)] = []
        var anchored: [String: Int] = [:]
        var added = 0
        func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
        func finish(_ size: Int, anchor: String?) {
            if let anchor { anchored[anchor] = size }
            if !open.isEmpty { open[open.count - 1].size += size }
        }
        while true {
            var event = yaml_event_t()
            // A syntax error: the composer reports it with its own message.
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                finish(1, anchor: anchorName(event.data.scalar.anchor))
            case YAML_SEQUENCE_START_EVENT:
                open.append((1, anchorName(event.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                open.append((1, anchorName(event.data.mapping_start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let last = open.popLast() { finish(last.size, anchor: last.anchor) }
            case YAML_ALIAS_EVENT:
                let size = anchorName(event.data.alias.anchor).flatMap { anchored[$0] } ?? 1
                added += size
                if added > maximumAliasExpansion {
                    return Violation(
                        line: Int(event.start_mark.line) + 1,
                        message: "YAML aliases expand this document by more than \(maximumAliasExpansion) nodes (an alias bomb?); write the values out instead of repeating aliases")
                }
                finish(size, anchor: nil)
            default:
                break
            }
        }
    }
}
