import DynamoDB
import Testing

@Suite("Retry policy of DynamoDB calls: which failures are retried, and how long it waits")
struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .milliseconds(300))
    let throttled = DynamoDBError.service(type: "ProvisionedThroughputExceededException", message: "slow down", status: 400)

    @Test func throttlingServerErrorsAndLostConnectionsAreRetriedWithGrowingCaps() {
        #expect(policy.delay(after: 1, failure: throttled, random: 0.25) == .milliseconds(25))
        #expect(policy.delay(after: 2, failure: throttled, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(after: 3, failure: throttled, random: 1) == .milliseconds(300), "capped by maxDelay, not 400 ms")
        #expect(policy.delay(after: 1, failure: .service(type: "InternalServerError", message: "", status: 500), random: 1) == .milliseconds(100))
        #expect(policy.delay(after: 1, failure: .service(type: "ThrottlingException", message: "", status: 400), random: 1) != nil)
        #expect(policy.delay(after: 1, failure: .transport("connection refused"), random: 1) != nil)
    }

    @Test func givesUpAfterItsAttemptsAndOnErrorsThatWouldRepeat() {
        #expect(policy.delay(after: 4, failure: throttled, random: 0.5) == nil)
        #expect(policy.delay(after: 1, failure: .service(type: DynamoDBError.conditionalCheckFailed, message: "", status: 400), random: 1) == nil)
        #expect(policy.delay(after: 1, failure: .service(type: "ResourceNotFoundException", message: "", status: 400), random: 1) == nil)
        #expect(policy.delay(after: 1, failure: .service(type: "UnrecognizedClientException", message: "", status: 400), random: 1) == nil)
    }
}
