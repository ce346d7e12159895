// Type stubs for the modeler's libraries that ship none.
declare module 'bpmn-js-properties-panel' {
  export const BpmnPropertiesPanelModule: any
  export const BpmnPropertiesProviderModule: any
  export const ZeebePropertiesProviderModule: any
}
declare module 'camunda-bpmn-js-behaviors/lib/camunda-cloud' {
  const module: any
  export default module
}
declare module 'zeebe-bpmn-moddle/resources/zeebe.json' {
  const descriptor: any
  export default descriptor
}
declare module '*.css'
