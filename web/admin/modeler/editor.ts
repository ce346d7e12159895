// The bpmn-js Modeler with the camunda: moddle (Camunda 7, which Operaton runs), the Camunda 7
// behaviours (they keep camunda: extensions consistent as the diagram changes) and the properties
// panel with the Camunda 7 properties.
import Modeler from 'bpmn-js/lib/Modeler'
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule } from 'bpmn-js-properties-panel'
import CamundaPlatformBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform'
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css'
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css'

export function createModeler(canvas: HTMLElement, panel: HTMLElement): any {
  return new Modeler({
    container: canvas,
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule, CamundaPlatformBehaviorsModule],
    moddleExtensions: { camunda: camundaModdle },
  })
}
