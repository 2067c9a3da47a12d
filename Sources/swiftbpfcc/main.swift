print("swiftbpfcc: not yet")
