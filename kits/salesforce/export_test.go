package salesforce

// NewUUID is newUUID for the external tests.
var NewUUID = newUUID
