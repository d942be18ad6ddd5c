/// The pgcellar release, shown by `pgcellar --version` and written into exports.
public enum PgCellarVersion {
    public static let current = "0.1.0"
}
