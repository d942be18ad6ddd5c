/// Strongly connected components of the graph of script objects: the
/// dependency cycles, which pg_dump repairs by splitting an object in two.
enum DependencyGraph {
    struct Components {
        /// The component of each node.
        var id: [Int]
        /// How many nodes each component holds, by component.
        var size: [Int]

        /// Whether `node` is part of a cycle (a component of more than one node).
        func inCycle(_ node: Int) -> Bool { size[id[node]] > 1 }
    }

    /// The objects as a graph: each object's position by key, and for each
    /// object the positions of the objects it depends on (dependencies on
    /// objects not in `objects`, and on itself, left out).
    static func edges(of objects: [DumpObject]) -> (index: [ObjectKey: Int], edges: [[Int]]) {
        var index: [ObjectKey: Int] = [:]
        index.reserveCapacity(objects.count)
        for (position, object) in objects.enumerated() { index[object.key] = position }
        let edges = objects.map { object in object.dependencies.compactMap { $0 == object.key ? nil : index[$0] } }
        return (index, edges)
    }

    /// Tarjan's algorithm, iterative so that deep chains cannot overflow the
    /// stack: O(nodes + edges).
    /// - Parameter edges: For each node, the nodes it depends on.
    static func components(_ edges: [[Int]]) -> Components {
        let count = edges.count
        var order = [Int](repeating: -1, count: count), low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count), stack: [Int] = [], counter = 0
        var result = Components(id: [Int](repeating: -1, count: count), size: [])
        for root in 0..<count where order[root] < 0 {
            var work: [(node: Int, next: Int)] = [(root, 0)]
            order[root] = counter; low[root] = counter; counter += 1; stack.append(root); onStack[root] = true
            while let (node, next) = work.last {
                if next < edges[node].count {
                    work[work.count - 1].next += 1
                    let target = edges[node][next]
                    if order[target] < 0 {
                        order[target] = counter; low[target] = counter; counter += 1
                        stack.append(target); onStack[target] = true
                        work.append((target, 0))
                    } else if onStack[target] {
                        low[node] = min(low[node], order[target])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
                if low[node] == order[node] {
                    let component = result.size.count
                    var size = 0
                    while let member = stack.popLast() {
                        onStack[member] = false
                        result.id[member] = component
                        size += 1
                        if member == node { break }
                    }
                    result.size.append(size)
                }
            }
        }
        return result
    }
}
