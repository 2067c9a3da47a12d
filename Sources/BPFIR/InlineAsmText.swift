extension InlineAsm {
    /// The assembly text: each operand written as `operand` spells it (`r3`, `10`), with the `w`
    /// modifier turning `rN` into `wN`, and each asm goto label as `labelName`.
    public func text(operand: (Int) -> String) -> String {
        var text = ""
        for piece in template {
            switch piece {
            case .text(let s):
                text += s
            case .operand(let n, let halfWord):
                let spelled = operand(n)
                text += halfWord && spelled.hasPrefix("r") ? "w" + spelled.dropFirst() : spelled
            case .label(let n):
                text += InlineAsm.labelName(n)
            }
        }
        return text
    }

    /// The name asm goto label N has in the assembly text.
    public static func labelName(_ n: Int) -> String { ".Lasm_goto_\(n)" }
}
