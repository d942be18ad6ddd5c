import Foundation
import Testing

@testable import Cellar

@Suite struct PushgatewayURLTests {
    @Test("the group URL: job pgcellar, the database base64url-encoded without padding, the base's trailing slashes dropped")
    func groupURL() throws {
        let gateway = try Pushgateway("http://pushgateway.monitoring.svc:9091//")
        #expect(gateway.base == "http://pushgateway.monitoring.svc:9091")
        // "a/b?" is YS9iPw== in standard base64; / and + never reach the path.
        #expect(gateway.groupURL(database: "a/b?") == "http://pushgateway.monitoring.svc:9091/metrics/job/pgcellar/database@base64/YS9iPw")
        #expect(Pushgateway.base64URL("???") == "Pz8_")
        #expect(Pushgateway.base64URL("??>") == "Pz8-")
        #expect(Pushgateway.base64URL("") == "=")
        #expect(try Pushgateway("https://gw.example/prefix").groupURL(database: "shop") == "https://gw.example/prefix/metrics/job/pgcellar/database@base64/c2hvcA")
    }

    @Test("URLs with credentials, a query, or not http(s) are refused without echoing a password")
    func refused() {
        for url in ["http://u:hunter2@gw:9091", "gw:9091", "ftp://gw", "http://gw:9091/?a=1", "http:///x"] {
            do {
                _ = try Pushgateway(url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error is MetricsError)
                #expect(!"\(error)".contains("hunter2"), "\(error)")
            }
        }
    }
}
