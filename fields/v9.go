// The rows in this file were first imported by fields/internal/importxml
// from fields/data (v9_field_types.tsv, v9-extra.tsv, netflow.xml and netflowExtra.xml).
// They are maintained by hand from now on: edit the rows here (keep them
// sorted by PEN, then ID) and note the source of any change beside the row.

package fields

// V9 names the NetFlow v9 field types: RFC 3954 section 8 and Cisco's
// "NetFlow Version 9 Flow-Record Format" for 1-127 (names as python-netflow
// 0.12.2 lists them, corrected where noted), Cisco ASA NSEL (NF_F_*), the
// v9 ids libfds knows beyond IANA (netflow.xml, netflowExtra.xml) and a few
// vendor ids (see fields/data/v9-extra.tsv for sources).
//
// A row without Element means v9 type ID is IANA element ID. Rows with an
// Element describe v9 types that IANA lacks or defines differently.
var V9 = []V9Name{
	{ID: 1, Name: "IN_BYTES"},
	{ID: 2, Name: "IN_PKTS"},
	{ID: 3, Name: "FLOWS"},
	{ID: 4, Name: "PROTOCOL"},
	{ID: 5, Name: "SRC_TOS"},
	{ID: 6, Name: "TCP_FLAGS"},
	{ID: 7, Name: "L4_SRC_PORT"},
	{ID: 8, Name: "IPV4_SRC_ADDR"},
	{ID: 9, Name: "SRC_MASK"},
	{ID: 10, Name: "INPUT_SNMP"},
	{ID: 11, Name: "L4_DST_PORT"},
	{ID: 12, Name: "IPV4_DST_ADDR"},
	{ID: 13, Name: "DST_MASK"},
	{ID: 14, Name: "OUTPUT_SNMP"},
	{ID: 15, Name: "IPV4_NEXT_HOP"},
	{ID: 16, Name: "SRC_AS"},
	{ID: 17, Name: "DST_AS"},
	{ID: 18, Name: "BGP_IPV4_NEXT_HOP"},
	{ID: 19, Name: "MUL_DST_PKTS"},
	{ID: 20, Name: "MUL_DST_BYTES"},
	{ID: 21, Name: "LAST_SWITCHED"},
	{ID: 22, Name: "FIRST_SWITCHED"},
	{ID: 23, Name: "OUT_BYTES"},
	{ID: 24, Name: "OUT_PKTS"},
	{ID: 25, Name: "MIN_PKT_LNGTH"},
	{ID: 26, Name: "MAX_PKT_LNGTH"},
	{ID: 27, Name: "IPV6_SRC_ADDR"},
	{ID: 28, Name: "IPV6_DST_ADDR"},
	{ID: 29, Name: "IPV6_SRC_MASK"},
	{ID: 30, Name: "IPV6_DST_MASK"},
	{ID: 31, Name: "IPV6_FLOW_LABEL"},
	{ID: 32, Name: "ICMP_TYPE"},
	{ID: 33, Name: "MUL_IGMP_TYPE"},
	{ID: 34, Name: "SAMPLING_INTERVAL"},
	{ID: 35, Name: "SAMPLING_ALGORITHM"},
	{ID: 36, Name: "FLOW_ACTIVE_TIMEOUT"},
	{ID: 37, Name: "FLOW_INACTIVE_TIMEOUT"},
	{ID: 38, Name: "ENGINE_TYPE"},
	{ID: 39, Name: "ENGINE_ID"},
	{ID: 40, Name: "TOTAL_BYTES_EXP"},
	{ID: 41, Name: "TOTAL_PKTS_EXP"},
	{ID: 42, Name: "TOTAL_FLOWS_EXP"},
	{ID: 44, Name: "IPV4_SRC_PREFIX"},
	{ID: 45, Name: "IPV4_DST_PREFIX"},
	{ID: 46, Name: "MPLS_TOP_LABEL_TYPE"},
	{ID: 47, Name: "MPLS_TOP_LABEL_IP_ADDR"},
	{ID: 48, Name: "FLOW_SAMPLER_ID"},
	{ID: 49, Name: "FLOW_SAMPLER_MODE"},
	{ID: 50, Name: "FLOW_SAMPLER_RANDOM_INTERVAL"}, // RFC 3954 name; python-netflow has the truncated NTERVAL
	{ID: 52, Name: "MIN_TTL"},
	{ID: 53, Name: "MAX_TTL"},
	{ID: 54, Name: "IPV4_IDENT"},
	{ID: 55, Name: "DST_TOS"},
	{ID: 56, Name: "IN_SRC_MAC"},
	{ID: 57, Name: "OUT_DST_MAC"},
	{ID: 58, Name: "SRC_VLAN"},
	{ID: 59, Name: "DST_VLAN"},
	{ID: 60, Name: "IP_PROTOCOL_VERSION"},
	{ID: 61, Name: "DIRECTION"},
	{ID: 62, Name: "IPV6_NEXT_HOP"},
	{ID: 63, Name: "BPG_IPV6_NEXT_HOP"}, // sic: RFC 3954 and Cisco spell it BPG
	{ID: 64, Name: "IPV6_OPTION_HEADERS"},
	{ID: 70, Name: "MPLS_LABEL_1"},
	{ID: 71, Name: "MPLS_LABEL_2"},
	{ID: 72, Name: "MPLS_LABEL_3"},
	{ID: 73, Name: "MPLS_LABEL_4"},
	{ID: 74, Name: "MPLS_LABEL_5"},
	{ID: 75, Name: "MPLS_LABEL_6"},
	{ID: 76, Name: "MPLS_LABEL_7"},
	{ID: 77, Name: "MPLS_LABEL_8"},
	{ID: 78, Name: "MPLS_LABEL_9"},
	{ID: 79, Name: "MPLS_LABEL_10"},
	{ID: 80, Name: "IN_DST_MAC"},
	{ID: 81, Name: "OUT_SRC_MAC"},
	{ID: 82, Name: "IF_NAME"},
	{ID: 83, Name: "IF_DESC"},
	{ID: 84, Name: "SAMPLER_NAME"},
	{ID: 85, Name: "IN_PERMANENT_BYTES"},
	{ID: 86, Name: "IN_PERMANENT_PKTS"},
	{ID: 88, Name: "FRAGMENT_OFFSET"},
	{ID: 89, Name: "FORWARDING_STATUS"},
	{ID: 90, Name: "MPLS_PAL_RD"},
	{ID: 91, Name: "MPLS_PREFIX_LEN"},
	{ID: 92, Name: "SRC_TRAFFIC_INDEX"},
	{ID: 93, Name: "DST_TRAFFIC_INDEX"},
	{ID: 94, Name: "APPLICATION_DESCRIPTION"},
	{ID: 95, Name: "APPLICATION_TAG"},
	{ID: 96, Name: "APPLICATION_NAME"},
	{ID: 98, Name: "POST_IP_DIFF_SERV_CODE_POINT"},  // Cisco lists it as postipDiffServCodePoint
	{ID: 99, Name: "REPLICATION_FACTOR"},            // Cisco lists it as "replication factor"
	{ID: 102, Name: "LAYER2_PACKET_SECTION_OFFSET"}, // Cisco lists it as layer2packetSectionOffset
	{ID: 103, Name: "LAYER2_PACKET_SECTION_SIZE"},   // Cisco lists it as layer2packetSectionSize
	{ID: 104, Name: "LAYER2_PACKET_SECTION_DATA"},   // Cisco lists it as layer2packetSectionData
	{ID: 148, Name: "NF_F_CONN_ID"},
	{ID: 152, Name: "NF_F_FLOW_CREATE_TIME_MSEC"},
	{ID: 176, Name: "NF_F_ICMP_TYPE"},
	{ID: 177, Name: "NF_F_ICMP_CODE"},
	{ID: 178, Name: "NF_F_ICMP_TYPE_IPV6"},
	{ID: 179, Name: "NF_F_ICMP_CODE_IPV6"},
	{ID: 225, Name: "NF_F_XLATE_SRC_ADDR_IPV4"},
	{ID: 226, Name: "NF_F_XLATE_DST_ADDR_IPV4"},
	{ID: 227, Name: "NF_F_XLATE_SRC_PORT"},
	{ID: 228, Name: "NF_F_XLATE_DST_PORT"},
	{ID: 231, Name: "NF_F_FWD_FLOW_DELTA_BYTES"},
	{ID: 232, Name: "NF_F_REV_FLOW_DELTA_BYTES"},
	{ID: 233, Name: "NF_F_FW_EVENT"},
	{ID: 281, Name: "NF_F_XLATE_SRC_ADDR_IPV6"},
	{ID: 282, Name: "NF_F_XLATE_DST_ADDR_IPV6"},
	{ID: 323, Name: "NF_F_EVENT_TIME_MSEC"},
	{ID: 346, Name: "PANOS_privateEnterpriseNumber"}, // PAN-OS name of IANA privateEnterpriseNumber (value 25461, Palo Alto)
	{ID: 6660, Name: "EKINOPS_TCP_CONNECTION_SETUP_TIME", Element: &Element{PEN: PENIANA, ID: 6660, Name: "EkinopsTcpConnectionSetupTime", Type: Unsigned32, Semantics: Default}},                // v9 name derived from the libfds name
	{ID: 6661, Name: "EKINOPS_TCP_SERVER_RESPONSE_TIME", Element: &Element{PEN: PENIANA, ID: 6661, Name: "EkinopsTcpServerResponseTime", Type: Unsigned32, Semantics: Default}},                  // v9 name derived from the libfds name
	{ID: 6662, Name: "EKINOPS_TCP_MEAN_RTT", Element: &Element{PEN: PENIANA, ID: 6662, Name: "EkinopsTcpMeanRtt", Type: Unsigned32, Semantics: Default}},                                         // v9 name derived from the libfds name
	{ID: 6663, Name: "EKINOPS_TCP_RETRANSMISSIONS", Element: &Element{PEN: PENIANA, ID: 6663, Name: "EkinopsTcpRetransmissions", Type: Unsigned32, Semantics: Default}},                          // v9 name derived from the libfds name
	{ID: 6664, Name: "EKINOPS_TCP_GOODPUT_BYTES", Element: &Element{PEN: PENIANA, ID: 6664, Name: "EkinopsTcpGoodputBytes", Type: Unsigned32, Semantics: Default}},                               // v9 name derived from the libfds name
	{ID: 6665, Name: "EKINOPS_TCP_CONNECTION_INITIATOR", Element: &Element{PEN: PENIANA, ID: 6665, Name: "EkinopsTcpConnectionInitiator", Type: Unsigned8, Semantics: Default}},                  // v9 name derived from the libfds name
	{ID: 6670, Name: "EKINOPS_HTTP_HOST", Element: &Element{PEN: PENIANA, ID: 6670, Name: "EkinopsHttpHost", Type: String, Semantics: Default}},                                                  // v9 name derived from the libfds name
	{ID: 6671, Name: "EKINOPS_TIC_APP_ID", Element: &Element{PEN: PENIANA, ID: 6671, Name: "EkinopsTicAppId", Type: Unsigned32, Semantics: Default}},                                             // v9 name derived from the libfds name
	{ID: 6680, Name: "EKINOPS_RTP_PAYLOAD_TYPE", Element: &Element{PEN: PENIANA, ID: 6680, Name: "EkinopsRtpPayloadType", Type: Unsigned8, Semantics: Default}},                                  // v9 name derived from the libfds name
	{ID: 6681, Name: "EKINOPS_RTP_PACKET_LOSS", Element: &Element{PEN: PENIANA, ID: 6681, Name: "EkinopsRtpPacketLoss", Type: Unsigned32, Semantics: Default}},                                   // v9 name derived from the libfds name
	{ID: 6682, Name: "EKINOPS_RTP_JITTER", Element: &Element{PEN: PENIANA, ID: 6682, Name: "EkinopsRtpJitter", Type: Unsigned16, Semantics: Default}},                                            // v9 name derived from the libfds name
	{ID: 6683, Name: "EKINOPS_RTP_R_FACTOR", Element: &Element{PEN: PENIANA, ID: 6683, Name: "EkinopsRtpRFactor", Type: Unsigned8, Semantics: Default}},                                          // v9 name derived from the libfds name
	{ID: 6690, Name: "EKINOPS_REPORTER_ID", Element: &Element{PEN: PENIANA, ID: 6690, Name: "EkinopsReporterId", Type: String, Semantics: Default}},                                              // v9 name derived from the libfds name
	{ID: 6691, Name: "EKINOPS_UPLINK_BANDWIDTH", Element: &Element{PEN: PENIANA, ID: 6691, Name: "EkinopsUplinkBandwidth", Type: Unsigned32, Semantics: Default}},                                // v9 name derived from the libfds name
	{ID: 6692, Name: "EKINOPS_DOWNLINK_BANDWIDTH", Element: &Element{PEN: PENIANA, ID: 6692, Name: "EkinopsDownlinkBandwidth", Type: Unsigned32, Semantics: Default}},                            // v9 name derived from the libfds name
	{ID: 6693, Name: "EKINOPS_TIMEZONE_OFFSET", Element: &Element{PEN: PENIANA, ID: 6693, Name: "EkinopsTimezoneOffset", Type: Unsigned32, Semantics: Default}},                                  // v9 name derived from the libfds name
	{ID: 6694, Name: "EKINOPS_TIMEZONE_NAME", Element: &Element{PEN: PENIANA, ID: 6694, Name: "EkinopsTimezoneName", Type: String, Semantics: Default}},                                          // v9 name derived from the libfds name
	{ID: 6695, Name: "EKINOPS_DAYLIGHT_SAVING_START", Element: &Element{PEN: PENIANA, ID: 6695, Name: "EkinopsDaylightSavingStart", Type: Unsigned32, Semantics: Default}},                       // v9 name derived from the libfds name
	{ID: 6696, Name: "EKINOPS_DAYLIGHT_SAVING_END", Element: &Element{PEN: PENIANA, ID: 6696, Name: "EkinopsDaylightSavingEnd", Type: Unsigned32, Semantics: Default}},                           // v9 name derived from the libfds name
	{ID: 6697, Name: "EKINOPS_MAC_ADDRESS", Element: &Element{PEN: PENIANA, ID: 6697, Name: "EkinopsMacAddress", Type: MACAddress, Semantics: Default}},                                          // v9 name derived from the libfds name
	{ID: 6698, Name: "EKINOPS_DPI_VERSION", Element: &Element{PEN: PENIANA, ID: 6698, Name: "EkinopsDpiVersion", Type: String, Semantics: Default}},                                              // v9 name derived from the libfds name
	{ID: 6699, Name: "EKINOPS_QOS_CFG_FINGERPRINT", Element: &Element{PEN: PENIANA, ID: 6699, Name: "EkinopsQosCfgFingerprint", Type: String, Semantics: Default}},                               // v9 name derived from the libfds name
	{ID: 6800, Name: "EKINOPS_NET_CONTROL_CFG_FINGERPRINT", Element: &Element{PEN: PENIANA, ID: 6800, Name: "EkinopsNetControlCfgFingerprint", Type: String, Semantics: Default}},                // v9 name derived from the libfds name
	{ID: 16386, Name: "ETA_INITIAL_DATA_PACKET_OLD", Element: &Element{PEN: PENIANA, ID: 16386, Name: "ETAInitialDataPacketOld", Type: OctetArray, Semantics: Default}},                          // Cisco ETA (libfds, after Cisco Stealthwatch IE list); name follows the libfds name
	{ID: 16387, Name: "ETA_SEQUENCE_OF_PKT_LENGTHS_AND_TIMES_OLD", Element: &Element{PEN: PENIANA, ID: 16387, Name: "ETASequenceofPktLengthsandTimesOld", Type: OctetArray, Semantics: Default}}, // Cisco ETA (libfds, after Cisco Stealthwatch IE list); name follows the libfds name
	{ID: 33000, Name: "NF_F_INGRESS_ACL_ID", Element: &Element{PEN: PENIANA, ID: 33000, Name: "ingressAclId", Type: OctetArray, Semantics: Default}},
	{ID: 33001, Name: "NF_F_EGRESS_ACL_ID", Element: &Element{PEN: PENIANA, ID: 33001, Name: "egressAclId", Type: OctetArray, Semantics: Default}},
	{ID: 33002, Name: "NF_F_FW_EXT_EVENT", Element: &Element{PEN: PENIANA, ID: 33002, Name: "firewallEventExtended", Type: Unsigned16, Semantics: Default}},
	{ID: 37083, Name: "TCP_WINDOW_SIZE_MIN", Element: &Element{PEN: PENIANA, ID: 37083, Name: "tcpWindowSizeMin", Type: Unsigned32, Semantics: Identifier, Units: "octets"}},           // v9 name derived from the libfds name
	{ID: 37084, Name: "TCP_WINDOW_SIZE_MAX", Element: &Element{PEN: PENIANA, ID: 37084, Name: "tcpWindowSizeMax", Type: Unsigned32, Semantics: Identifier, Units: "octets"}},           // v9 name derived from the libfds name
	{ID: 37086, Name: "TCP_MAXIMUM_SEGMENT_SIZE", Element: &Element{PEN: PENIANA, ID: 37086, Name: "tcpMaximumSegmentSize", Type: Unsigned16, Semantics: Identifier, Units: "octets"}}, // v9 name derived from the libfds name
	{ID: 37092, Name: "TCP_WINDOW_SIZE_SUM", Element: &Element{PEN: PENIANA, ID: 37092, Name: "tcpWindowSizeSum", Type: Unsigned64, Semantics: Identifier, Units: "octets"}},           // v9 name derived from the libfds name
	{ID: 40000, Name: "NF_F_USERNAME", Element: &Element{PEN: PENIANA, ID: 40000, Name: "userName", Type: String, Semantics: Default}},
	{ID: 40001, Name: "NF_F_XLATE_SRC_ADDR_84", Element: &Element{PEN: PENIANA, ID: 40001, Name: "postNATSourceIPv4Address", Type: IPv4Address, Semantics: Default}},                   // Cisco ASA 8.4 form of 225 (nfdump)
	{ID: 40002, Name: "NF_F_XLATE_DST_ADDR_84", Element: &Element{PEN: PENIANA, ID: 40002, Name: "postNATDestinationIPv4Address", Type: IPv4Address, Semantics: Default}},              // Cisco ASA 8.4 form of 226 (nfdump)
	{ID: 40003, Name: "NF_F_XLATE_SRC_PORT_84", Element: &Element{PEN: PENIANA, ID: 40003, Name: "postNAPTSourceTransportPort", Type: Unsigned16, Semantics: Identifier}},              // Cisco ASA 8.4 form of 227 (nfdump)
	{ID: 40004, Name: "NF_F_XLATE_DST_PORT_84", Element: &Element{PEN: PENIANA, ID: 40004, Name: "postNAPTDestinationTransportPort", Type: Unsigned16, Semantics: Identifier}},         // Cisco ASA 8.4 form of 228 (nfdump)
	{ID: 40005, Name: "NF_F_FW_EVENT_84", Element: &Element{PEN: PENIANA, ID: 40005, Name: "firewallEvent", Type: Unsigned8, Semantics: Default}},                                      // Cisco ASA 8.4 form of 233 (nfdump)
	{ID: 41000, Name: "CLASS_HIERARCHY", Element: &Element{PEN: PENIANA, ID: 41000, Name: "classHierarchy", Type: OctetArray, Semantics: Identifier}},                                  // v9 name derived from the libfds name
	{ID: 42020, Name: "SERVICES_WAAS_SEGMENT", Element: &Element{PEN: PENIANA, ID: 42020, Name: "servicesWaasSegment", Type: Unsigned8, Semantics: Identifier}},                        // v9 name derived from the libfds name
	{ID: 42021, Name: "SERVICES_WAAS_PASS_THROUGH_REASON", Element: &Element{PEN: PENIANA, ID: 42021, Name: "servicesWaasPassThroughReason", Type: Unsigned8, Semantics: Identifier}},  // v9 name derived from the libfds name
	{ID: 42036, Name: "CLIENT_RETRANS_PACKETS", Element: &Element{PEN: PENIANA, ID: 42036, Name: "clientRetransPackets", Type: Unsigned32, Semantics: DeltaCounter, Units: "packets"}}, // v9 name derived from the libfds name
	{ID: 42040, Name: "TRANSACTION_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42040, Name: "transactionCountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                 // v9 name derived from the libfds name
	{ID: 42041, Name: "SUM_TRANSACTION_TIME", Element: &Element{PEN: PENIANA, ID: 42041, Name: "sumTransactionTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},     // v9 name derived from the libfds name
	{ID: 42042, Name: "MAX_TRANSACTION_TIME", Element: &Element{PEN: PENIANA, ID: 42042, Name: "maxTransactionTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},     // v9 name derived from the libfds name
	{ID: 42043, Name: "MIN_TRANSACTION_TIME", Element: &Element{PEN: PENIANA, ID: 42043, Name: "minTransactionTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},     // v9 name derived from the libfds name
	{ID: 42060, Name: "NUM_RESPS_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42060, Name: "numRespsCountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                      // v9 name derived from the libfds name
	{ID: 42061, Name: "NUM_RESPS1_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42061, Name: "numResps1CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42062, Name: "NUM_RESPS2_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42062, Name: "numResps2CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42063, Name: "NUM_RESPS3_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42063, Name: "numResps3CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42064, Name: "NUM_RESPS4_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42064, Name: "numResps4CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42065, Name: "NUM_RESPS5_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42065, Name: "numResps5CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42066, Name: "NUM_RESPS6_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42066, Name: "numResps6CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42067, Name: "NUM_RESPS7_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42067, Name: "numResps7CountDelta", Type: Unsigned32, Semantics: DeltaCounter}},                    // v9 name derived from the libfds name
	{ID: 42068, Name: "NUM_LATE_RESPS_COUNT_DELTA", Element: &Element{PEN: PENIANA, ID: 42068, Name: "numLateRespsCountDelta", Type: Unsigned32, Semantics: DeltaCounter}},             // v9 name derived from the libfds name
	{ID: 42071, Name: "SUM_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42071, Name: "sumRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                   // v9 name derived from the libfds name
	{ID: 42072, Name: "MAX_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42072, Name: "maxRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                   // v9 name derived from the libfds name
	{ID: 42073, Name: "MIN_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42073, Name: "minRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                   // v9 name derived from the libfds name
	{ID: 42074, Name: "SUM_SERVER_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42074, Name: "sumServerRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},      // v9 name derived from the libfds name
	{ID: 42075, Name: "MAX_SERVER_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42075, Name: "maxServerRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},      // v9 name derived from the libfds name
	{ID: 42076, Name: "MIN_SERVER_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42076, Name: "minServerRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},      // v9 name derived from the libfds name
	{ID: 42077, Name: "SUM_TOTAL_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42077, Name: "sumTotalRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42078, Name: "MAX_TOTAL_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42078, Name: "maxTotalRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42079, Name: "MIN_TOTAL_RESP_TIME", Element: &Element{PEN: PENIANA, ID: 42079, Name: "minTotalRespTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42081, Name: "SUM_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42081, Name: "sumNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                     // v9 name derived from the libfds name
	{ID: 42082, Name: "MAX_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42082, Name: "maxNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                     // v9 name derived from the libfds name
	{ID: 42083, Name: "MIN_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42083, Name: "minNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},                     // v9 name derived from the libfds name
	{ID: 42084, Name: "SUM_CLIENT_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42084, Name: "sumClientNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42085, Name: "MAX_CLIENT_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42085, Name: "maxClientNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42086, Name: "MIN_CLIENT_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42086, Name: "minClientNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42087, Name: "SUM_SERVER_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42087, Name: "sumServerNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42088, Name: "MAX_SERVER_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42088, Name: "maxServerNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42089, Name: "MIN_SERVER_NWK_TIME", Element: &Element{PEN: PENIANA, ID: 42089, Name: "minServerNwkTime", Type: Unsigned32, Semantics: Default, Units: "milliseconds"}},        // v9 name derived from the libfds name
	{ID: 42128, Name: "POLICY_QOS_QUEUE_ID", Element: &Element{PEN: PENIANA, ID: 42128, Name: "policyQosQueueID", Type: Unsigned32, Semantics: Identifier}},                            // v9 name derived from the libfds name
	{ID: 42129, Name: "POLICY_QOS_QUEUE_DROP", Element: &Element{PEN: PENIANA, ID: 42129, Name: "policyQosQueueDrop", Type: Unsigned64, Semantics: DeltaCounter}},                      // v9 name derived from the libfds name
	{ID: 45004, Name: "CLIENT_IPV4_ADDRESS", Element: &Element{PEN: PENIANA, ID: 45004, Name: "clientIPv4Address", Type: IPv4Address, Semantics: Identifier}},                          // v9 name derived from the libfds name
	{ID: 45005, Name: "SERVER_IPV4_ADDRESS", Element: &Element{PEN: PENIANA, ID: 45005, Name: "serverIPv4Address", Type: IPv4Address, Semantics: Identifier}},                          // v9 name derived from the libfds name
	{ID: 45006, Name: "CLIENT_IPV6_ADDRESS", Element: &Element{PEN: PENIANA, ID: 45006, Name: "clientIPv6Address", Type: IPv6Address, Semantics: Identifier}},                          // v9 name derived from the libfds name
	{ID: 45007, Name: "SERVER_IPV6_ADDRESS", Element: &Element{PEN: PENIANA, ID: 45007, Name: "serverIPv6Address", Type: IPv6Address, Semantics: Identifier}},                          // v9 name derived from the libfds name
	{ID: 45008, Name: "CLIENT_TRANSPORT_PORT", Element: &Element{PEN: PENIANA, ID: 45008, Name: "clientTransportPort", Type: Unsigned16, Semantics: Identifier}},                       // v9 name derived from the libfds name
	{ID: 45009, Name: "SERVER_TRANSPORT_PORT", Element: &Element{PEN: PENIANA, ID: 45009, Name: "serverTransportPort", Type: Unsigned16, Semantics: Identifier}},                       // v9 name derived from the libfds name
	{ID: 45010, Name: "CONNECTION_ID", Element: &Element{PEN: PENIANA, ID: 45010, Name: "connectionId", Type: Unsigned32, Semantics: Identifier}},                                      // v9 name derived from the libfds name
	{ID: 56701, Name: "PANOS_APPID", Element: &Element{PEN: PENIANA, ID: 56701, Name: "panosAppId", Type: String, Semantics: Default}},                                                 // Palo Alto App-ID name (PAN-OS NetFlow Templates)
	{ID: 56702, Name: "PANOS_USERID", Element: &Element{PEN: PENIANA, ID: 56702, Name: "panosUserId", Type: String, Semantics: Default}},                                               // Palo Alto User-ID user name (PAN-OS NetFlow Templates)
}
