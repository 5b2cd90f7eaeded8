package aws

import (
	"strings"
	"unicode"
)

// canonical turns a CUR column header into its CUR 2.0 (snake_case)
// name, so that one mapping serves both formats:
//
//	lineItem/UnblendedCost       -> line_item_unblended_cost
//	savingsPlan/SavingsPlanARN   -> savings_plan_savings_plan_a_r_n
//	product/region               -> product_region
//	line_item_unblended_cost     -> line_item_unblended_cost
//
// Tag columns come back as a tag key instead (isTag): legacy
// resourceTags/user:team and the Athena-style resource_tags_user_team give
// "team"; AWS-generated tags keep their prefix (aws:createdBy). Cost
// categories are not tags and are dropped (ok false).
func canonical(h string) (name, tag string, isTag, ok bool) {
	h = strings.TrimSpace(h)
	if cat, field, found := strings.Cut(h, "/"); found {
		switch cat {
		case "resourceTags":
			return "", tagKey(field), true, field != ""
		case "costCategory":
			return "", "", false, false
		}
		return snake(cat) + "_" + snake(field), "", false, true
	}
	lower := strings.ToLower(h)
	if rest, found := strings.CutPrefix(lower, "resource_tags_"); found {
		return "", strings.TrimPrefix(rest, "user_"), true, rest != ""
	}
	return lower, "", false, true
}

// tagKey strips the user: prefix AWS puts on user-defined cost
// allocation tags.
func tagKey(k string) string { return strings.TrimPrefix(k, "user:") }

// snake converts camelCase to snake_case the way AWS names CUR columns
// for Athena and CUR 2.0: an underscore before every upper-case letter
// (so ARN becomes a_r_n), other punctuation as underscores.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case unicode.IsUpper(r):
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Columns of CUR (canonical names) that the mapping reads.
const (
	colPayerAccountID       = "bill_payer_account_id"
	colPayerAccountName     = "bill_payer_account_name"
	colBillingPeriodStart   = "bill_billing_period_start_date"
	colBillingPeriodEnd     = "bill_billing_period_end_date"
	colBillType             = "bill_bill_type"
	colInvoicingEntity      = "bill_invoicing_entity"
	colInvoiceID            = "bill_invoice_id"
	colUsageAccountID       = "line_item_usage_account_id"
	colUsageAccountName     = "line_item_usage_account_name"
	colLineItemType         = "line_item_line_item_type"
	colUsageStart           = "line_item_usage_start_date"
	colUsageEnd             = "line_item_usage_end_date"
	colProductCode          = "line_item_product_code"
	colUsageType            = "line_item_usage_type"
	colOperation            = "line_item_operation"
	colAvailabilityZone     = "line_item_availability_zone"
	colUsageAmount          = "line_item_usage_amount"
	colCurrency             = "line_item_currency_code"
	colUnblendedCost        = "line_item_unblended_cost"
	colNetUnblendedCost     = "line_item_net_unblended_cost"
	colDescription          = "line_item_line_item_description"
	colLegalEntity          = "line_item_legal_entity"
	colResourceID           = "line_item_resource_id"
	colRegion               = "product_region"
	colRegionCode           = "product_region_code"
	colLocation             = "product_location"
	colSku                  = "product_sku"
	colPurchaseOption       = "product_purchase_option"
	colProduct              = "product" // CUR 2.0 map
	colPricingUnit          = "pricing_unit"
	colOnDemandRate         = "pricing_public_on_demand_rate"
	colOnDemandCost         = "pricing_public_on_demand_cost"
	colRateCode             = "pricing_rate_code"
	colRateID               = "pricing_rate_id"
	colTerm                 = "pricing_term"
	colReservationARN       = "reservation_reservation_a_r_n"
	colReservationEffective = "reservation_effective_cost"
	colRIUnusedUpfront      = "reservation_unused_amortized_upfront_fee_for_billing_period"
	colRIUnusedRecurring    = "reservation_unused_recurring_fee"
	colRITotalUnits         = "reservation_total_reserved_units"
	colSavingsPlanARN       = "savings_plan_savings_plan_a_r_n"
	colSPEffective          = "savings_plan_savings_plan_effective_cost"
	colSPCommitmentToDate   = "savings_plan_total_commitment_to_date"
	colSPUsedCommitment     = "savings_plan_used_commitment"
	colResourceTags         = "resource_tags" // CUR 2.0 map
)

// required columns, with the legacy spelling for messages.
var required = []struct{ name, legacy string }{
	{colPayerAccountID, "bill/PayerAccountId"},
	{colBillingPeriodStart, "bill/BillingPeriodStartDate"},
	{colUsageStart, "lineItem/UsageStartDate"},
	{colLineItemType, "lineItem/LineItemType"},
	{colUnblendedCost, "lineItem/UnblendedCost"},
}

// serviceCategory maps common product codes to FOCUS ServiceCategory
// values (the converter's rule is a lookup by product code); unknown
// codes are "Other".
var serviceCategory = map[string]string{
	"AmazonEC2": "Compute", "AWSLambda": "Compute", "AmazonECS": "Compute", "AmazonEKS": "Compute",
	"AmazonECR": "Compute", "AmazonLightsail": "Compute", "AWSOutposts": "Compute", "AWSAppRunner": "Compute",
	"AWSBatch": "Compute", "AmazonAppStream": "Compute", "ElasticBeanstalk": "Compute",
	"AmazonS3": "Storage", "AmazonEFS": "Storage", "AmazonFSx": "Storage", "AmazonGlacier": "Storage",
	"AWSBackup": "Storage", "AWSStorageGateway": "Storage", "AmazonS3GlacierDeepArchive": "Storage", "AmazonEBS": "Storage",
	"AmazonRDS": "Databases", "AmazonDynamoDB": "Databases", "AmazonElastiCache": "Databases", "AmazonRedshift": "Databases",
	"AmazonDocDB": "Databases", "AmazonNeptune": "Databases", "AmazonMemoryDB": "Databases", "AmazonTimestream": "Databases",
	"AmazonMCS": "Databases",
	"AmazonVPC": "Networking", "AWSDataTransfer": "Networking", "AmazonCloudFront": "Networking", "AmazonRoute53": "Networking",
	"AWSELB": "Networking", "AWSDirectConnect": "Networking", "AWSGlobalAccelerator": "Networking", "AmazonApiGateway": "Networking",
	"AWSCloudMap": "Networking", "AWSNetworkFirewall": "Networking",
	"AWSGlue": "Analytics", "AmazonAthena": "Analytics", "AmazonKinesis": "Analytics", "AmazonKinesisFirehose": "Analytics",
	"AmazonES": "Analytics", "AmazonOpenSearchService": "Analytics", "ElasticMapReduce": "Analytics", "AmazonQuickSight": "Analytics",
	"AmazonMSK": "Analytics", "AWSLakeFormation": "Analytics",
	"AWSQueueService": "Integration", "AmazonSNS": "Integration", "AmazonMQ": "Integration", "AmazonStates": "Integration",
	"AmazonEventBridge": "Integration", "AmazonMWAA": "Integration", "AppFlow": "Integration",
	"AmazonCloudWatch": "Management and Governance", "AWSCloudTrail": "Management and Governance",
	"AWSConfig": "Management and Governance", "AWSCloudFormation": "Management and Governance",
	"AWSSystemsManager": "Management and Governance", "AWSCostExplorer": "Management and Governance",
	"AWSBudgets": "Management and Governance", "AmazonGrafana": "Management and Governance",
	"AmazonPrometheus": "Management and Governance", "AWSCloudShell": "Management and Governance",
	"AWSServiceCatalog": "Management and Governance",
	"awskms":            "Security", "AWSSecretsManager": "Security", "AmazonGuardDuty": "Security", "awswaf": "Security",
	"AWSShield": "Security", "AWSSecurityHub": "Security", "AmazonInspectorV2": "Security", "AmazonMacie": "Security",
	"AWSCertificateManager": "Security", "AmazonCognito": "Security", "CloudHSM": "Security", "AmazonDetective": "Security",
	"AmazonSageMaker": "AI and Machine Learning", "AmazonBedrock": "AI and Machine Learning",
	"AmazonRekognition": "AI and Machine Learning", "AmazonTextract": "AI and Machine Learning",
	"comprehend": "AI and Machine Learning", "transcribe": "AI and Machine Learning", "translate": "AI and Machine Learning",
	"AmazonPolly": "AI and Machine Learning", "AmazonLex": "AI and Machine Learning", "AmazonKendra": "AI and Machine Learning",
	"AWSCodeCommit": "Developer Tools", "CodeBuild": "Developer Tools", "AWSCodePipeline": "Developer Tools",
	"AWSCodeDeploy": "Developer Tools", "AWSCodeArtifact": "Developer Tools", "AWSAmplify": "Developer Tools",
	"AWSAppSync": "Developer Tools", "AWSXRay": "Developer Tools",
	"AWSMigrationHubRefactorSpaces": "Migration", "AWSDatabaseMigrationSvc": "Migration", "AWSDataSync": "Migration",
	"AWSTransfer": "Migration", "AWSApplicationMigrationSvc": "Migration",
	"AmazonSES": "Business Applications", "AmazonConnect": "Business Applications", "AmazonWorkSpaces": "Business Applications",
	"AmazonWorkMail": "Business Applications", "AmazonChime": "Business Applications", "AmazonPinpoint": "Business Applications",
	"AWSIoT": "Internet of Things", "AWSGreengrass": "Internet of Things",
	"AWSElementalMediaConvert": "Media", "AmazonIVS": "Media", "AmazonKinesisVideo": "Media",
	"AWSSupport": "Other", "AWSSupportBusiness": "Other", "AWSSupportEnterprise": "Other", "AWSDeveloperSupport": "Other",
	"ComputeSavingsPlans": "Compute", "MachineLearningSavingsPlans": "AI and Machine Learning",
}

func categoryOf(productCode string) string {
	if c, ok := serviceCategory[productCode]; ok {
		return c
	}
	if productCode == "" {
		return ""
	}
	return "Other"
}
