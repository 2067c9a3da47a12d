import IRTestSupport
import Testing
@testable import CodeGen

/// Sorted, disjoint segments over positions 0..<limit, each position covered with probability
/// about `percent`.
private func randomSegments(_ random: inout RandomSource, limit: Int, percent: Int) -> [ClosedRange<Int>] {
    var segments: [ClosedRange<Int>] = []
    var position = 0
    while position < limit {
        let length = 1 + random.below(4)
        if random.chance(percent) { segments.append(position...min(position + length - 1, limit - 1)) }
        position += length + 1
    }
    return segments
}

@Suite struct SegmentListTests {
    /// The shared segments, visited in order, are the positions both lists cover, run together as
    /// they come: checked against sets of positions, for lists of about one length (walked side by
    /// side) and of very different lengths (binary search), with a stop at the first one.
    @Test func intersectionsAreThePositionsBothCover() {
        var random = RandomSource(state: 11)
        for trial in 0..<200 {
            let a = randomSegments(&random, limit: 400, percent: 50)
            let b = randomSegments(&random, limit: 400, percent: trial % 2 == 0 ? 50 : 2)
            var visited: [ClosedRange<Int>] = []
            #expect(!a.anyIntersectingSegment(b) { visited.append($0); return false })
            let both = Set(a.flatMap { Array($0) }).intersection(b.flatMap { Array($0) })
            #expect(Set(visited.flatMap { Array($0) }) == both, "trial \(trial)")
            #expect(visited.map(\.count).reduce(0, +) == both.count, "trial \(trial): a position visited twice")
            #expect(zip(visited, visited.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound }, "trial \(trial): out of order")
            #expect(a.overlapsSegments(b) == !both.isEmpty)
            if let first = visited.first {
                var stopped: [ClosedRange<Int>] = []
                #expect(a.anyIntersectingSegment(b) { stopped.append($0); return true })
                #expect(stopped == [first])
            }
        }
    }
}
