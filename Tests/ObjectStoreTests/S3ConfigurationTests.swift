import Foundation
import Testing

@testable import ObjectStore

@Suite struct S3ConfigurationTests {
    @Test func partsAreSizedSo10000Suffice() {
        let configuration = S3Configuration(endpoint: "https://s3.example", bucket: "b")
        let mebibyte = 1024 * 1024
        #expect(configuration.partSize(forExpectedSize: 1_000) == 5 * mebibyte)
        #expect(configuration.partSize(forExpectedSize: nil) == 16 * mebibyte)
        for size: Int64 in [50 << 30, 1 << 40, 5 << 40] {
            let part = configuration.partSize(forExpectedSize: size)
            #expect(Int64(part) * 10_000 >= 2 * size)
            #expect(part % mebibyte == 0)
        }
    }

    @Test func endpointsMustBeBareURLs() {
        for endpoint in ["s3.example", "ftp://s3.example", "https://s3.example/path", "https://"] {
            #expect(throws: S3Error.self) {
                try S3Store(
                    configuration: S3Configuration(endpoint: endpoint, bucket: "b"),
                    credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "s"))
            }
        }
    }

    @Test func credentialsComeFromTheEnvironmentThenTheFile() throws {
        let (fromEnvironment, source) = try S3Credentials.resolve(
            environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "sess-XYZ"])
        #expect(source == .environment)
        #expect(fromEnvironment.accessKeyID == "AKID" && fromEnvironment.sessionToken == "sess-XYZ")
        #expect(!fromEnvironment.description.contains("s3cr3t") && !fromEnvironment.description.contains("sess-XYZ"))

        let path = NSTemporaryDirectory() + "pgcellar-credentials-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n[profile backup]\naws_access_key_id=A2\naws_secret_access_key=S2\naws_session_token=T2\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (backup, fileSource) = try S3Credentials.resolve(environment: ["AWS_PROFILE": "backup"], file: path)
        #expect(fileSource == .file(path: path, profile: "backup"))
        #expect(backup.accessKeyID == "A2" && backup.secretAccessKey == "S2" && backup.sessionToken == "T2")
        #expect(try S3Credentials.fromFile(path: path, profile: "default").accessKeyID == "A1")

        let missing = try #require(throws: S3Error.self) { try S3Credentials.fromFile(path: path, profile: "nope") }
        #expect(missing.description.contains("[nope]") && !missing.description.contains("S1"))
        let half = try #require(throws: S3Error.self) {
            try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(half.description.contains("AWS_SECRET_ACCESS_KEY"))
    }
}
