import Cellar

/// What `restore`, `verify` and `list` read: a backup named by a `repo:`
/// reference, or a file or standard input (decrypted when it is an age file).
func openArchiveInput(_ file: String, identity: IdentityOptions, repository: RepositoryReferenceOptions) throws -> ArchiveInput {
    if RepositorySource.isReference(file) { return .randomAccess(try repository.archive(file, identity: identity)) }
    return try identity.openArchive(file)
}
