import Testing

@testable import ObjectStore

/// The XML reader S3 answers go through: what S3-compatible servers send
/// reads as before (FoundationXML's XMLParser), and what is not well-formed
/// is refused instead of half read.
@Suite struct S3XMLTests {
    private func parse(_ text: String) -> XMLNode? {
        XMLNode.parse(Array(text.utf8))
    }

    @Test func aListingAsAWSAndMotoSendIt() throws {
        let document = try #require(
            parse(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <Name>bucket</Name><IsTruncated>true</IsTruncated>
                  <Contents><Key>a &amp; b/&lt;c&gt;</Key><Size>12</Size><ETag>&quot;9b2c&quot;</ETag></Contents>
                  <Contents><Key>caf&#233;/&#x1F600;</Key><Size>0</Size></Contents>
                  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
                  <Empty/>
                </ListBucketResult>
                """))
        #expect(document.name == "ListBucketResult")
        #expect(document.value("IsTruncated") == "true")
        #expect(document.children("Contents").compactMap { $0.value("Key") } == ["a & b/<c>", "café/😀"])
        #expect(document.children("Contents").first?.value("ETag") == "\"9b2c\"")
        #expect(document.value("NextContinuationToken") == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(document.value("Empty") == "")
    }

    @Test func commentsCDATAAndAttributesWithAngleBracketsInQuotes() throws {
        let document = try #require(
            parse(
                """
                <!-- before --><Error kind='a>b' other="x/y">
                <Code><![CDATA[No<Such>Key]]></Code><!-- inside --><Message>m</Message>
                </Error>
                <!-- after -->
                """))
        #expect(document.name == "Error")
        #expect(document.value("Code") == "No<Such>Key")
        #expect(document.value("Message") == "m")
    }

    @Test(arguments: [
        "",
        "just text",
        "<a>",
        "<a></b>",
        "<a><b></a></b>",
        "<a></a><b></b>",
        "<a></a>trailing",
        "<a>&unknown;</a>",
        "<a>&amp</a>",
        "<a>&#0;</a>",
        "<a>&#xD800;</a>",
        "<a b></a>",
        "<a b=c></a>",
        "<a b=\"c></a>",
        "<a><![CDATA[never closed</a>",
        "<a><!-- never closed</a>",
        "<!DOCTYPE a [<!ENTITY e \"eeee\">]><a>&e;</a>",
        "<a><!DOCTYPE b></a>",
        "<a>\u{FFFD}</a>\u{0}",
    ])
    func whatIsNotWellFormedIsRefused(_ text: String) {
        #expect(parse(text) == nil, "\(text)")
    }

    @Test func invalidUTF8IsRefused() {
        #expect(XMLNode.parse(Array("<a>".utf8) + [0xC3, 0x28] + Array("</a>".utf8)) == nil)
    }

    @Test func nestingIsBoundedSoThatNoAnswerExhaustsTheStack() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "<a>", count: depth) + "x" + String(repeating: "</a>", count: depth)
        }
        var node = try #require(parse(nested(XMLReader.maximumDepth)))
        var levels = 1
        while let child = node.child("a") {
            node = child
            levels += 1
        }
        #expect(levels == XMLReader.maximumDepth)
        #expect(node.text == "x")
        #expect(parse(nested(XMLReader.maximumDepth + 1)) == nil)
        #expect(parse(nested(1_000_000)) == nil)
    }
}
