extension AgeIdentity {
    /// The identities in an age identity file, with errors that name the file.
    public static func load(file path: String) throws -> [AgeIdentity] {
        let text: String
        do {
            text = String(decoding: try FileIO.read(path), as: UTF8.self)
        } catch {
            throw DRError(.crypto, "cannot read the age identity file \(path)", cause: error)
        }
        do {
            return try parseFile(contents: text)
        } catch let error as AgeError {
            throw DRError(.crypto, "the age identity file \(path) is not valid: \(error.message)")
        }
    }
}
