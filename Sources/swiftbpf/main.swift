print("swiftbpf: not yet")
